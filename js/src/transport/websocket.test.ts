// The browser WebSocket Conn, over a scripted stand-in for the web
// platform's WebSocket (Node 20 has none).

import { test } from "node:test";
import assert from "node:assert/strict";
import type { Conn } from "../mux.js";
import { isTransportError } from "./errors.js";
import { dialWebSocket, webSocketConn } from "./websocket.js";

/** The part of WebSocket that webSocketConn uses, driven by the test. */
class ScriptedWebSocket extends EventTarget {
  readonly OPEN = 1;
  readyState = 1;
  binaryType = "blob";
  bufferedAmount = 0;
  readonly sent: Uint8Array[] = [];
  closedWith: number | undefined;
  constructor(readonly url: string) {
    super();
  }
  send(data: Uint8Array) {
    this.sent.push(data.slice());
    this.bufferedAmount += data.length;
  }
  close(code?: number) {
    this.closedWith ??= code ?? 1005;
    this.readyState = 3;
  }
  receive(data: ArrayBuffer | string) {
    this.dispatchEvent(new MessageEvent("message", { data }));
  }
  peerClose(code: number, reason = "") {
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason }));
  }
}

function scripted(): { ws: ScriptedWebSocket; conn: Conn } {
  const ws = new ScriptedWebSocket("ws://h/p");
  return { ws, conn: webSocketConn(ws as unknown as WebSocket, { highWaterMark: 10 }) };
}

const bytes = (...b: number[]) => Uint8Array.from(b).buffer;

test("browser ws: binary messages are one stream; 1000 ends it cleanly; binaryType is arraybuffer", async () => {
  const { ws, conn } = scripted();
  assert.equal(ws.binaryType, "arraybuffer");
  const reader = conn.readable.getReader();
  ws.receive(bytes(1, 2));
  ws.receive(bytes(3));
  ws.peerClose(1000);
  assert.deepEqual((await reader.read()).value, Uint8Array.of(1, 2));
  assert.deepEqual((await reader.read()).value, Uint8Array.of(3));
  assert.equal((await reader.read()).done, true);
});

test("browser ws: a text message is a protocol error and closes with 1003", async () => {
  const { ws, conn } = scripted();
  ws.receive("hello");
  await assert.rejects(conn.readable.getReader().read(), (err: unknown) => isTransportError(err, "protocol"));
  assert.equal(ws.closedWith, 1003);
});

test("browser ws: a close status other than 1000 and 1001 is an error naming it", async () => {
  const { ws, conn } = scripted();
  ws.peerClose(1011, "internal");
  await assert.rejects(conn.readable.getReader().read(), /status 1011: internal/);
  await assert.rejects(conn.writable.getWriter().write(Uint8Array.of(1)), (err: unknown) => isTransportError(err, "closed"));
});

test("browser ws: each write is one message; a write waits while more than the high-water mark is buffered", async () => {
  const { ws, conn } = scripted();
  const writer = conn.writable.getWriter();
  await writer.write(Uint8Array.of(1, 2, 3));
  assert.deepEqual(ws.sent, [Uint8Array.of(1, 2, 3)]);
  let resolved = false;
  const pending = writer.write(new Uint8Array(20)).then(() => (resolved = true));
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(resolved, false, "23 bytes buffered, over the mark of 10");
  ws.bufferedAmount = 0; // the browser sent them
  await pending;
  assert.equal(ws.sent.length, 2);
});

test("browser ws: dialing without a WebSocket class fails as unsupported", async (t) => {
  // Runtimes from Node 22 on have a global WebSocket: hide it for the test.
  const global = globalThis as { WebSocket?: unknown };
  const saved = global.WebSocket;
  delete global.WebSocket;
  t.after(() => {
    if (saved !== undefined) global.WebSocket = saved;
  });
  await assert.rejects(dialWebSocket("ws://h/p"), (err: unknown) => isTransportError(err, "unsupported"));
});
