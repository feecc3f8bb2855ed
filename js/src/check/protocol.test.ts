import { test } from "node:test";
import assert from "node:assert/strict";
import { Session } from "../qmux/index.js";
import { JSON as JSONCodec } from "../rpc/codec.js";
import { Code, QtalkError } from "../rpc/errors.js";
import { Peer } from "../rpc/peer.js";
import { RespondMux } from "../rpc/respondmux.js";
import { memoryPair } from "../transport/memory.js";
import * as check from "./protocol.js";

/** A client peer of a server peer serving the protocol under check:, with what the client serves. */
async function withServer(fn: (client: Peer) => Promise<void>, clientHandler?: RespondMux): Promise<void> {
  const [a, b] = memoryPair();
  const server = new Peer(new Session(a), { handler: new RespondMux().handle(check.Prefix, check.handler()) });
  const client = new Peer(new Session(b), clientHandler ? { handler: clientHandler } : {});
  try {
    await fn(client);
  } finally {
    await client.close();
    await server.close();
  }
}

/** Asserts that call fails with code, and a message matching message if given. */
async function rejectsWith(call: Promise<unknown>, code: number, message?: RegExp): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof QtalkError, String(err));
    assert.equal(err.code, code, err.toString());
    if (message) assert.match(err.message, message);
    return true;
  });
}

test("check:fail fails with the code and message asked for, matching keys as Go does", async () => {
  await withServer(async (c) => {
    await rejectsWith(c.call(check.Fail, { code: 5, message: "gone" }), Code.NotFound, /^gone$/);
    await rejectsWith(c.call(check.Fail, { Code: 9, MESSAGE: "by case", other: [1] }), Code.FailedPrecondition, /^by case$/);
    await rejectsWith(c.call(check.Fail, { code: 16 }), Code.Unauthenticated, /^$/);
    for (const bad of [{ code: 0, message: "x" }, { code: 17 }, null, { message: "no code" }]) {
      await rejectsWith(c.call(check.Fail, bad), Code.InvalidArgument, /check:fail: code \d+ is not an error code \(1\.\.16\)/);
    }
    for (const bad of [[5, "gone"], { code: -1 }, { code: 2.5 }, { code: 5, message: 7 }, "text"]) {
      await rejectsWith(c.call(check.Fail, bad), Code.InvalidArgument, /check:fail: want/);
    }
  });
});

test("check:stream sends 0..n-1 after a null reply, and refuses counts outside 0..10000", async () => {
  await withServer(async (c) => {
    const resp = await c.stream(check.Stream, 3);
    assert.equal(resp.continued, true);
    assert.equal(resp.value, null);
    const got: unknown[] = [];
    for await (const v of resp) got.push(v);
    assert.deepEqual(got, [0, 1, 2]);
    await resp.close();
    const none = await c.stream(check.Stream, null);
    assert.deepEqual((await none.receive()).done, true);
    await none.close();
    await rejectsWith(c.call(check.Stream, check.MaxStream + 1), Code.InvalidArgument, /count 10001 out of range 0\.\.10000/);
    await rejectsWith(c.call(check.Stream, -1), Code.InvalidArgument, /out of range/);
    await rejectsWith(c.call(check.Stream, "not a count"), Code.InvalidArgument);
  });
});

test("check:sum adds the client's integers, wrapping at 64 bits, and ends with invalid_argument on anything else", async () => {
  await withServer(async (c) => {
    const resp = await c.stream(check.Sum, null);
    for (const n of [1, 2, 2n ** 63n - 1n]) await resp.send(n);
    await resp.closeSend();
    assert.deepEqual(await resp.receive(), { done: false, value: -(2n ** 63n) + 2n });
    assert.equal((await resp.receive()).done, true);
    await resp.close();

    const bad = await c.stream(check.Sum, null);
    await bad.send(1);
    await bad.send("two");
    await rejectsWith(bad.receive(), Code.InvalidArgument, /check:sum: want integers/);
    await bad.close();
  });
});

test("check:metadata replies the call's metadata, the empty map for none; check:echo echoes in JSON too", async () => {
  await withServer(async (c) => {
    assert.deepEqual(await c.call(check.Metadata, null, { metadata: { a: "1", b: "2" } }), { a: "1", b: "2" });
    assert.deepEqual(await c.call(check.Metadata, null), {});
    const v = { s: "x", n: [1, -2, 0.5], t: true, z: null };
    assert.deepEqual(await c.call(check.Echo, v, { codec: JSONCodec }), v);
  });
});

test("an unknown check: selector fails with not_found, naming the full selector", async () => {
  await withServer(async (c) => {
    await rejectsWith(c.call("check:nope", null), Code.NotFound, /^no handler for "check:nope"$/);
  });
});

test("check:callback replies what the caller's check:echo returned, and fails with its code otherwise", async () => {
  const echoer = new RespondMux().handle(check.Echo, (_r, call) => call.receiveArgs().then((v) => ["echoed", v]));
  await withServer(async (c) => {
    assert.deepEqual(await c.call(check.Callback, "tok", { timeout: 5000 }), ["echoed", "tok"]);
  }, echoer);
  await withServer(async (c) => {
    await rejectsWith(
      c.call(check.Callback, "tok"),
      Code.NotFound,
      /^check:callback: calling back check:echo: no handler for "check:echo"$/,
    );
  });
});

test("check:bytes echoes raw bytes until the client's half-close", async () => {
  await withServer(async (c) => {
    const resp = await c.stream(check.Bytes, 5);
    const conn = resp.conn();
    await conn.write(Uint8Array.of(1, 2, 3, 4, 5));
    await conn.closeWrite();
    const got: number[] = [];
    for await (const chunk of conn) got.push(...chunk);
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    await resp.close();
  });
});
