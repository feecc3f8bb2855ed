import { test } from "node:test";
import assert from "node:assert/strict";
import { Session } from "../qmux/index.js";
import { memoryPair } from "../transport/memory.js";
import { guard } from "../testing.test.util.js";
import { JSON as JSONCodec } from "./codec.js";
import { Code, QtalkError } from "./errors.js";
import { Peer, labelPing } from "./peer.js";
import { RespondMux } from "./respondmux.js";
import { type Handler, serveSession } from "./server.js";

function peers(handler?: Handler): [Peer, Peer] {
  const [a, b] = memoryPair();
  return [new Peer(new Session(a), handler ? { handler } : {}), new Peer(new Session(b))];
}

test("every peer answers qtalk:ping with its payload, whatever its handler", guard, async () => {
  const [server, client] = peers(() => {
    throw new QtalkError(Code.PermissionDenied, "the handler saw the call");
  });
  const payload = new Uint8Array([0, 1, 2, 250, 255]);
  assert.deepEqual(await client.call(labelPing, payload), payload);
  assert.deepEqual(await client.call(labelPing, new Uint8Array()), new Uint8Array());
  // JSON carries the byte string as base64 text, and gets the same text back.
  assert.equal(await client.call(labelPing, payload, { codec: JSONCodec }), "AAEC+v8=");
  // Anything but a byte string is refused.
  await assert.rejects(client.call(labelPing, 42), (err: unknown) => err instanceof QtalkError && err.code === Code.InvalidArgument);
  // Other labels still go to the handler.
  await assert.rejects(client.call("x"), (err: unknown) => err instanceof QtalkError && err.code === Code.PermissionDenied);
  await client.close();
  await server.close();
});

test("Peer.ping measures the round trip of a payload of the size asked, both ways", guard, async () => {
  const [server, client] = peers();
  for (const size of [0, 1, 1000, 64 << 10]) {
    const rtt = await client.ping(size);
    assert.ok(rtt >= 0, `round trip ${rtt}`);
    assert.ok((await server.ping(size, { codec: JSONCodec })) >= 0);
  }
  await assert.rejects(client.ping(-1), RangeError);
  // Over the other side's frame limit: that side says so.
  await assert.rejects(client.ping(5 << 20), (err: unknown) => err instanceof QtalkError && err.code === Code.ResourceExhausted);
  await client.close();
  await server.close();
});

test("Peer.ping fails with data_loss when the payload does not come back unchanged", guard, async () => {
  // A peer in front of a server whose qtalk:ping is not the built-in one:
  // a bare server (serveSession, no Peer) with a handler that truncates.
  const [a, b] = memoryPair();
  const truncating = new RespondMux();
  truncating.handle(labelPing, async (_r, c) => (await c.receiveArgs<Uint8Array>()).subarray(1));
  const serverSession = new Session(a);
  const served = serveSession(serverSession, truncating);
  const client = new Peer(new Session(b));
  await assert.rejects(client.ping(10), (err: unknown) => err instanceof QtalkError && err.code === Code.DataLoss);
  await client.close();
  await serverSession.close();
  await served;
});
