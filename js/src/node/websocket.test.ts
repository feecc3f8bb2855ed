import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import * as net from "node:net";
import { isMuxError } from "../errors.js";
import type { Conn } from "../mux.js";
import { parseAddress } from "../transport/address.js";
import { isTransportError } from "../transport/errors.js";
import type { ConnListener } from "../transport/registry.js";
import { dial, listen } from "../transport/registry.js";
import { registerNodeConnectors } from "./connectors.js";
import { applyMask, dialNodeWebSocket, listenNodeWebSocket, webSocketAccept, type WebSocketListenOptions } from "./websocket.js";
import { assertEchoes, echoChannels, guard, pattern, readAll, sha256 } from "./transport.test.util.js";

registerNodeConnectors();

const text = (s: string) => new TextEncoder().encode(s);

test("ws: 8 MiB echoed through a session, over dial and listen", guard, async (t) => {
  const listener = await listen("ws/$4:0/qtalk");
  t.after(() => listener.close());
  assert.match(listener.address, /^ws:\/\/127\.0\.0\.1:[1-9][0-9]*\/qtalk$/);
  const accepted = listener.accept().then(echoChannels);
  const client = await dial(listener.address);
  await assertEchoes(client);
  await client.close();
  await accepted;
});

test("ws: the peer closing mid-transfer fails the writer's session, no hang", guard, async (t) => {
  const listener = await listen("ws://127.0.0.1:0");
  t.after(() => listener.close());
  const server = listener.accept().then(async (session) => {
    const ch = await session.accept();
    let n = 0;
    while (n < 1 << 20) n += (await ch.read())!.length;
    await session.close();
  });
  const client = await dial(listener.address);
  const ch = await client.open();
  await assert.rejects(ch.write(pattern(8 << 20)), (err: unknown) => isMuxError(err, "session_closed"));
  await server;
  const ended = await client.done;
  assert.ok(ended === undefined || isMuxError(ended, "session_closed"), `session ended with ${ended}`);
});

test("ws: closing the writable sends a close frame after the data; the peer reads it all, then a clean end", guard, async (t) => {
  const listener = await listenNodeWebSocket(parseAddress("ws://127.0.0.1:0/p"));
  t.after(() => listener.close());
  const accepted = listener.accept();
  const client = await dialNodeWebSocket(parseAddress(listener.address));
  const server = await accepted;
  const data = pattern(3 << 20, 5);
  const writer = client.writable.getWriter();
  const [got] = await Promise.all([readAll(server.readable), writer.write(data).then(() => writer.close())]);
  assert.equal(sha256(got), sha256(data));
  // The server answered the close: the client's readable ends cleanly and
  // the server can no longer write.
  assert.equal((await readAll(client.readable)).length, 0);
  await assert.rejects(server.writable.getWriter().write(text("late")), (err: unknown) => isTransportError(err, "closed"));
  client.close();
  server.close();
});

test("webSocketAccept gives the answer of RFC 6455's example", () => {
  assert.equal(webSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

test("applyMask masks like the byte-wise definition at every alignment and phase", () => {
  const mask = Uint8Array.of(0x12, 0x34, 0x56, 0x78);
  const source = pattern(67, 9);
  for (let offset = 0; offset < 4; offset++) {
    for (let phase = 0; phase < 4; phase++) {
      const buffer = new Uint8Array(source.length + offset);
      const data = buffer.subarray(offset);
      data.set(source);
      assert.equal(applyMask(data, mask, phase), (phase + source.length) & 3);
      for (let i = 0; i < source.length; i++) assert.equal(data[i], source[i]! ^ mask[(phase + i) & 3]!, `offset ${offset} phase ${phase} byte ${i}`);
    }
  }
});

// ---- a raw client, to send what a correct client would not ----

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** A frame as a client sends it: masked unless told not to. */
function frame(opcode: number, payload: Uint8Array, options: { fin?: boolean; masked?: boolean; length?: bigint } = {}): Buffer {
  const masked = options.masked ?? true;
  const length = options.length ?? BigInt(payload.length);
  const head: number[] = [(options.fin ?? true ? 0x80 : 0) | opcode];
  const maskBit = masked ? 0x80 : 0;
  if (length < 126n) head.push(maskBit | Number(length));
  else if (length < 65536n) head.push(maskBit | 126, Number(length >> 8n), Number(length & 0xffn));
  else {
    head.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((length >> shift) & 0xffn));
  }
  const mask = masked ? randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(payload);
  if (masked) applyMask(body, mask, 0);
  return Buffer.concat([Buffer.from(head), mask, body]);
}

function closePayload(code: number, reason = ""): Uint8Array {
  return Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);
}

/** A raw TCP connection that did the handshake; frames() yields the server's frames. */
class RawClient {
  private buffered = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private ended = false;
  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiter?.();
    });
    socket.on("close", () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  /** Connects and sends request; resolves with the client and the response head. */
  static async connect(port: number, request: string): Promise<{ client: RawClient; response: string }> {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const client = new RawClient(socket);
    socket.write(request);
    for (;;) {
      const end = client.buffered.indexOf("\r\n\r\n");
      if (end >= 0) {
        const response = client.buffered.subarray(0, end).toString();
        client.buffered = client.buffered.subarray(end + 4);
        return { client, response };
      }
      await client.more();
    }
  }

  static async upgrade(port: number, path = "/", headers = ""): Promise<RawClient> {
    const key = randomBytes(16).toString("base64");
    const { client, response } = await RawClient.connect(
      port,
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${headers}\r\n`,
    );
    assert.match(response, /^HTTP\/1\.1 101 /);
    assert.match(response, new RegExp(`\r\nSec-WebSocket-Accept: ${webSocketAccept(key).replace(/[+/]/g, "\\$&")}`, "i"));
    return client;
  }

  private more(): Promise<void> {
    if (this.ended) throw new Error("raw client: connection ended");
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** The next frame from the server, which must be unmasked. */
  async next(): Promise<Frame> {
    for (;;) {
      const b = this.buffered;
      if (b.length >= 2) {
        assert.equal(b[1]! & 0x80, 0, "server frames are unmasked");
        let length = b[1]! & 0x7f;
        let at = 2;
        if (length === 126 && b.length >= 4) {
          length = b.readUInt16BE(2);
          at = 4;
        } else if (length === 127 && b.length >= 10) {
          length = Number(b.readBigUInt64BE(2));
          at = 10;
        }
        if ((b[1]! & 0x7f) < 126 || at > 2) {
          if (b.length >= at + length) {
            this.buffered = b.subarray(at + length);
            return { fin: (b[0]! & 0x80) !== 0, opcode: b[0]! & 0x0f, payload: b.subarray(at, at + length) };
          }
        }
      }
      await this.more();
    }
  }

  /** The close frame's status, after skipping data frames. */
  async closeStatus(): Promise<number> {
    for (;;) {
      const f = await this.next();
      if (f.opcode === 0x8) return (f.payload[0]! << 8) | f.payload[1]!;
    }
  }
}

async function rawSetup(
  t: { after(fn: () => unknown): void },
  options: WebSocketListenOptions = {},
): Promise<{ listener: ConnListener; port: number; client: RawClient; conn: Conn }> {
  const listener = await listenNodeWebSocket(parseAddress("ws://127.0.0.1:0/q"), options);
  t.after(() => listener.close());
  const port = Number(/:(\d+)\//.exec(listener.address)![1]);
  const accepted = listener.accept();
  const client = await RawClient.upgrade(port, "/q");
  const conn = await accepted;
  t.after(() => {
    conn.close();
    client.socket.destroy();
  });
  return { listener, port, client, conn };
}

test("ws server: a fragmented message with a ping inside is one stream; the ping is answered", guard, async (t) => {
  const { client, conn } = await rawSetup(t);
  client.socket.write(frame(0x2, text("ab"), { fin: false }));
  client.socket.write(frame(0x9, text("x")));
  client.socket.write(Buffer.concat([frame(0x0, text("cd"), { fin: false }), frame(0x0, text("ef"))]));
  client.socket.write(frame(0x2, text("g")));
  client.socket.write(frame(0x8, closePayload(1000)));
  assert.equal(new TextDecoder().decode(await readAll(conn.readable)), "abcdefg");
  const pong = await client.next();
  assert.deepEqual([pong.opcode, Buffer.from(pong.payload).toString()], [0xa, "x"]);
  assert.equal(await client.closeStatus(), 1000);
});

test("ws server: a header split across writes at every byte still parses", guard, async (t) => {
  const { client, conn } = await rawSetup(t);
  const data = pattern(70_000, 11); // a 16-bit length
  const bytes = frame(0x2, data);
  for (let i = 0; i < 8; i++) client.socket.write(bytes.subarray(i, i + 1));
  client.socket.write(bytes.subarray(8));
  client.socket.write(frame(0x8, closePayload(1000)));
  assert.equal(sha256(await readAll(conn.readable)), sha256(data));
});

test("ws server: writes go out as unmasked binary frames", guard, async (t) => {
  const { client, conn } = await rawSetup(t);
  await conn.writable.getWriter().write(text("hi"));
  const f = await client.next();
  assert.deepEqual([f.fin, f.opcode, Buffer.from(f.payload).toString()], [true, 0x2, "hi"]);
});

const refusals: [string, (options: { maxFrameSize?: number }) => Buffer, number, RegExp, number?][] = [
  ["an oversized frame", () => frame(0x2, new Uint8Array(0), { length: 2000n }), 1009, /longer than the limit of 1024/, 1024],
  ["a 64-bit length past 2^53", () => frame(0x2, new Uint8Array(0), { length: 1n << 62n }), 1009, /longer than the limit/],
  ["an unmasked frame from the client", () => frame(0x2, text("x"), { masked: false }), 1002, /unmasked frame from the client/],
  ["a text message", () => frame(0x1, text("x")), 1003, /text message/],
  ["a continuation outside a message", () => frame(0x0, text("x")), 1002, /continuation frame outside/],
  ["a long ping", () => frame(0x9, new Uint8Array(126)), 1002, /long control frame/],
  ["reserved bits", () => Buffer.from([0xc2, 0x80, 0, 0, 0, 0]), 1002, /reserved bits/],
  ["an unknown opcode", () => frame(0x3, text("x")), 1002, /unknown opcode 3/],
];

for (const [what, bytes, status, message, maxFrameSize] of refusals) {
  test(`ws server: ${what} is refused with status ${status}`, guard, async (t) => {
    const { client, conn } = await rawSetup(t, maxFrameSize === undefined ? {} : { maxFrameSize });
    client.socket.write(bytes({}));
    await assert.rejects(readAll(conn.readable), (err: unknown) => isTransportError(err, "protocol") && message.test((err as Error).message));
    assert.equal(await client.closeStatus(), status);
  });
}

test("ws server: close statuses map to a clean end (1000, 1001) or an error naming the status", guard, async (t) => {
  for (const [code, reason, clean] of [
    [1000, "", true],
    [1001, "", true],
    [4000, "bye", false],
  ] as const) {
    const { client, conn } = await rawSetup(t);
    client.socket.write(frame(0x2, text("data")));
    client.socket.write(frame(0x8, closePayload(code, reason)));
    if (clean) assert.equal(new TextDecoder().decode(await readAll(conn.readable)), "data");
    else await assert.rejects(readAll(conn.readable), /websocket closed with status 4000: bye/);
    assert.equal(await client.closeStatus(), code, "the close is answered with the same status");
  }
});

test("ws server: the connection ending without a close frame is an error", guard, async (t) => {
  const { client, conn } = await rawSetup(t);
  client.socket.end(frame(0x2, text("partial")));
  await assert.rejects(readAll(conn.readable), /without a close frame \(status 1006\)/);
});

test("ws server: 404 off its path, 426 for plain requests, 403 for pages of other origins unless allowed", guard, async (t) => {
  const listener = await listenNodeWebSocket(parseAddress("ws://127.0.0.1:0/q"), { allowedOrigins: ["*.example.com"] });
  t.after(() => listener.close());
  const port = Number(/:(\d+)\//.exec(listener.address)![1]);
  const status = async (path: string, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = http.get({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on("upgrade", (res, socket) => {
        socket.destroy();
        resolve(res.statusCode!);
      });
      req.on("error", reject);
    });
  const upgrade = { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": randomBytes(16).toString("base64") };
  assert.equal(await status("/other", upgrade), 404);
  assert.equal(await status("/other", {}), 404);
  assert.equal(await status("/q", {}), 426);
  assert.equal(await status("/q", { ...upgrade, "Sec-WebSocket-Version": "8" }), 426);
  assert.equal(await status("/q", { ...upgrade, "Sec-WebSocket-Key": "short" }), 400);
  assert.equal(await status("/q", { ...upgrade, Origin: "https://evil.test" }), 403);
  assert.equal(await status("/q", { ...upgrade, Origin: `http://127.0.0.1:${port}` }), 101);
  assert.equal(await status("/q?x=1", { ...upgrade, Origin: "https://app.example.com" }), 101);
});

test("ws client: a masked frame from the server is refused, and a handshake answered 404 fails the dial", guard, async (t) => {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket) => {
    if (req.url !== "/masked") {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${webSocketAccept(req.headers["sec-websocket-key"]!)}\r\n\r\n`,
    );
    socket.write(frame(0x2, text("x"))); // masked, as only a client may send
    socket.on("data", () => {});
    socket.on("end", () => socket.end());
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const conn = await dialNodeWebSocket(parseAddress(`ws://127.0.0.1:${port}/masked`));
  t.after(() => conn.close());
  await assert.rejects(readAll(conn.readable), (err: unknown) => isTransportError(err, "protocol") && /masked frame from the server/.test((err as Error).message));
  await assert.rejects(dial(`ws://127.0.0.1:${port}/none`), (err: unknown) => isTransportError(err, "dial") && /status 404/.test((err as Error).message));
});
