// The Conn over a TCP socket when the peer goes away: a reset is an error,
// whether the Conn is read through its readable (and backpressured) or
// through Conn.receive, and a half-close stays a clean end.

import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import * as net from "node:net";
import type { Conn } from "../mux.js";
import { isTransportError } from "../transport/errors.js";
import { socketConn } from "./net.js";
import { guard, pattern } from "./transport.test.util.js";

/** A connected pair over loopback: the client socket, and a Conn over the server's end with that socket. */
async function socketPair(t: { after(fn: () => void): void }): Promise<{ client: net.Socket; conn: Conn; server: net.Socket }> {
  const listener = net.createServer({ allowHalfOpen: true });
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  const { port } = listener.address() as net.AddressInfo;
  const accepted = once(listener, "connection") as Promise<[net.Socket]>;
  const client = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
  client.on("error", () => {}); // resetAndDestroy's own socket may report it
  await once(client, "connect");
  const [server] = await accepted;
  listener.close();
  const conn = socketConn(server);
  t.after(() => {
    conn.close();
    client.destroy();
  });
  return { client, conn, server };
}

/** Resets the connection from the client's side (SO_LINGER 0) and waits until its socket is closed: the reset has left. */
async function reset(client: net.Socket): Promise<void> {
  const closed = once(client, "close");
  client.resetAndDestroy();
  await closed;
}

/** How the stream ended: undefined for a clean end, else the error. */
function receiveEnd(conn: Conn): Promise<Error | undefined> {
  return new Promise((resolve) => conn.receive!({ data() {}, end: resolve }));
}

test("tcp: a reset while the readable is backpressured ends it with an error, not a clean end", guard, async (t) => {
  const { client, conn, server } = await socketPair(t);
  const reader = conn.readable.getReader();
  // Nothing is read until the readable's queue is full and the socket
  // paused, with more in the system's buffers.
  const paused = once(server, "pause");
  client.write(pattern(4 << 20));
  await paused;
  await reset(client);
  let received = 0;
  const err = await (async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done) return undefined;
      received += r.value.length;
    }
  })().catch((e: unknown) => e);
  assert.ok(err !== undefined, `the readable ended cleanly after ${received} bytes although the peer reset the connection`);
  assert.ok(isTransportError(err, "closed"), `read failed with ${err}, want a TransportError of kind closed`);
});

test("tcp: a reset right after data ends Conn.receive with an error, not a clean end", guard, async (t) => {
  // The data and the reset arrive together: Node takes the data and
  // then reports the end of the stream, no 'error' (see endWasReset).
  for (let i = 0; i < 10; i++) {
    const { client, conn } = await socketPair(t);
    const ended = receiveEnd(conn);
    client.write(pattern(100_000, i));
    await reset(client);
    const err = await ended;
    assert.ok(err !== undefined, `round ${i}: the stream ended cleanly although the peer reset the connection`);
    assert.ok(isTransportError(err, "closed"), `round ${i}: ended with ${err}, want a TransportError of kind closed`);
    assert.match(err.message, /ECONNRESET|EPIPE/);
  }
});

test("tcp: the peer's half-close is a clean end, and this side's writes go on after it", guard, async (t) => {
  const { client, conn } = await socketPair(t);
  const ended = receiveEnd(conn);
  client.end(pattern(100_000));
  assert.equal(await ended, undefined);
  const data = pattern(64 << 10, 2);
  const got: Buffer[] = [];
  client.on("data", (b: Buffer) => got.push(b));
  const clientEnded = once(client, "end");
  await conn.write!(data);
  await conn.writable.close();
  await clientEnded;
  assert.deepEqual(new Uint8Array(Buffer.concat(got)), data);
});

test("tcp: a half-close while this side's writes wait for the peer ends the stream at once", guard, async (t) => {
  // The peer half-closes and reads nothing: the end must not wait for
  // the writes queued ahead (a peer that does not read holds nothing).
  const { client, conn, server } = await socketPair(t);
  client.pause();
  const ended = receiveEnd(conn);
  // More than the system buffers: the rest waits in the socket's queue.
  const chunk = pattern(256 << 10);
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 256; i++) writes.push(conn.write!(chunk).catch(() => {}));
  client.end();
  assert.equal(await ended, undefined);
  assert.ok(server.writableLength > 0, "no write was waiting for the peer");
  conn.close();
  await Promise.all(writes);
});
