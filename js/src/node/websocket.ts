// ws:// (and wss:// dialing) for Node, with an RFC 6455 client and server
// of our own on node:http, so that behaviour does not depend on whether
// this Node has a global WebSocket. As in Go's transport/ws.go, each Conn
// write is one binary message and what is received is one byte stream.

import { createHash, randomFillSync } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Conn, ConnReceiver, WaitOptions } from "../mux.js";
import { formatAddress, type Address } from "../transport/address.js";
import { messageOf, TransportError } from "../transport/errors.js";
import { ConnQueue, type ConnListener, type Connector } from "../transport/registry.js";
import { feedReadable } from "../transport/streams.js";
import { closeStatusError, webSocketURL } from "../transport/websocket.js";
import { startServer } from "./net.js";
import { defaultReadHighWaterMark } from "./stream-conn.js";

/**
 * The largest frame accepted. Data frames are streamed to the reader as
 * they arrive, never buffered whole, so this only refuses absurd lengths;
 * Go's qmux writes at most 256 KiB and a little control per message.
 */
export const defaultMaxFrameSize = 16 << 20;

/** How long a closed WebSocket waits for the peer to end the TCP connection before dropping it. */
const closeLingerMs = 5000;

const opContinuation = 0x0;
const opText = 0x1;
const opBinary = 0x2;
const opClose = 0x8;
const opPing = 0x9;
const opPong = 0xa;

// Close status codes (RFC 6455 section 7.4.1).
const statusNormal = 1000;
const statusProtocolError = 1002;
const statusUnsupportedData = 1003;
const statusNoStatus = 1005;
const statusTooBig = 1009;

const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The Sec-WebSocket-Accept answer to a Sec-WebSocket-Key. */
export function webSocketAccept(key: string): string {
  return createHash("sha1").update(key + acceptGUID).digest("base64");
}

// A scratch word to turn 4 mask bytes into a uint32 of this machine's byte order.
const maskScratch = new Uint8Array(4);
const maskScratch32 = new Uint32Array(maskScratch.buffer);

/**
 * XORs data in place with the 4-byte mask, starting at mask byte phase,
 * and returns the phase after it. The aligned middle goes a 32-bit word
 * at a time.
 */
export function applyMask(data: Uint8Array, mask: Uint8Array, phase: number): number {
  const n = data.length;
  let i = 0;
  for (; i < n && ((data.byteOffset + i) & 3) !== 0; i++) data[i]! ^= mask[(phase + i) & 3]!;
  const words = (n - i) >>> 2;
  if (words > 0) {
    for (let j = 0; j < 4; j++) maskScratch[j] = mask[(phase + i + j) & 3]!;
    const m = maskScratch32[0]!;
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w]! ^= m;
    i += words * 4;
  }
  for (; i < n; i++) data[i]! ^= mask[(phase + i) & 3]!;
  return (phase + n) & 3;
}

// Masking keys come from a pool filled by the system's random source, a
// page at a time.
const maskPool = new Uint8Array(4096);
let maskPoolAt = maskPool.length;

function nextMask(): Uint8Array {
  if (maskPoolAt === maskPool.length) {
    randomFillSync(maskPool);
    maskPoolAt = 0;
  }
  maskPoolAt += 4;
  return maskPool.subarray(maskPoolAt - 4, maskPoolAt);
}

/** Settings of the Node WebSocket Conns. */
export interface NodeWebSocketOptions {
  /** Frames longer than this are refused with status 1009 (default defaultMaxFrameSize). */
  maxFrameSize?: number;
}

/**
 * One end of a WebSocket over a socket after the handshake. A client masks
 * what it sends and refuses masked frames; a server the opposite.
 */
class WebSocketConn implements Conn {
  readonly writable: WritableStream<Uint8Array>;
  readonly remoteAddress: string;

  private readonly feed;
  private readonly maxFrameSize: number;
  /** Set once the Conn can no longer write: what writes fail with. */
  private writeError: TransportError | undefined;
  private closeSent = false;
  private readDone = false;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;

  // Decoder state. A header split across chunks is gathered in header.
  private readonly header = new Uint8Array(14);
  private headerLength = 0;
  private opcode = 0;
  private masked = false;
  private readonly mask = new Uint8Array(4);
  private maskPhase = 0;
  private payloadLeft = 0;
  /** A binary message is open: its continuations are due. */
  private inMessage = false;
  /** The payload of a control frame (at most 125 bytes), gathered. */
  private readonly control = new Uint8Array(125);
  private controlLength = 0;

  constructor(
    private readonly socket: Duplex,
    head: Uint8Array,
    private readonly client: boolean,
    remoteAddress: string,
    options: NodeWebSocketOptions,
  ) {
    this.remoteAddress = remoteAddress;
    this.maxFrameSize = options.maxFrameSize ?? defaultMaxFrameSize;
    this.feed = feedReadable(
      {
        pause: () => socket.pause(),
        resume: () => socket.resume(),
        cancel: () => socket.pause(),
      },
      defaultReadHighWaterMark,
    );
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => this.writeMessage(chunk),
      close: () => this.sendClose(statusNormal, ""),
      abort: () => this.close(),
    });
    socket.on("data", (chunk: Buffer) => this.decode(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    socket.on("end", () => {
      this.socketGone(undefined);
      this.hangUp(); // an http server's sockets allow half-open: end ours too
    });
    socket.on("error", (err) => this.socketGone(err));
    socket.on("close", () => {
      clearTimeout(this.lingerTimer);
      this.socketGone(undefined);
    });
    if (head.length > 0) this.decode(head);
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.feed.readable;
  }

  receive(receiver: ConnReceiver): void {
    this.feed.divert(receiver);
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.writeMessage(chunk);
  }

  close(): void {
    this.finishRead(new TransportError("closed", "transport: websocket closed"));
    if (!this.closeSent) void this.sendClose(statusNormal, "").catch(() => {});
    this.hangUp();
  }

  // ---- writing ----

  private writeMessage(chunk: Uint8Array): Promise<void> {
    if (this.writeError !== undefined) return Promise.reject(this.writeError);
    if (chunk.length === 0) return Promise.resolve();
    return this.sendFrame(opBinary, chunk);
  }

  /** Sends one final frame; resolves when the socket has handed it to the system. */
  private sendFrame(opcode: number, payload: Uint8Array): Promise<void> {
    const n = payload.length;
    const lengthBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
    const headerLength = 2 + lengthBytes + (this.client ? 4 : 0);
    let header: Uint8Array;
    let body: Uint8Array | undefined = payload;
    if (this.client) {
      // Masking needs a copy; the header goes in front of it, placed so
      // that the payload starts 4-byte aligned for applyMask's words.
      const pad = (4 - (headerLength & 3)) & 3;
      const frame = new Uint8Array(pad + headerLength + n);
      header = frame.subarray(pad, pad + headerLength);
      const out = frame.subarray(pad + headerLength);
      out.set(payload);
      const mask = nextMask();
      header.set(mask, headerLength - 4);
      applyMask(out, mask, 0);
      header = frame.subarray(pad);
      body = undefined;
    } else {
      header = new Uint8Array(headerLength);
    }
    header[0] = 0x80 | opcode;
    const maskBit = this.client ? 0x80 : 0;
    if (lengthBytes === 0) {
      header[1] = maskBit | n;
    } else if (lengthBytes === 2) {
      header[1] = maskBit | 126;
      header[2] = n >>> 8;
      header[3] = n & 0xff;
    } else {
      header[1] = maskBit | 127;
      const view = new DataView(header.buffer, header.byteOffset + 2, 8);
      view.setUint32(0, Math.floor(n / 2 ** 32));
      view.setUint32(4, n >>> 0);
    }
    return new Promise((resolve, reject) => {
      const done = (err?: Error | null) =>
        err ? reject(this.writeError ?? new TransportError("closed", `transport: websocket: write: ${err.message}`, { cause: err })) : resolve();
      if (body === undefined) {
        this.socket.write(header, done);
      } else {
        this.socket.cork();
        this.socket.write(header);
        this.socket.write(body, done);
        this.socket.uncork();
      }
    });
  }

  /** Sends a close frame, after which nothing more is written. */
  private sendClose(code: number, reason: string): Promise<void> {
    if (this.closeSent) return Promise.resolve();
    const payload = new Uint8Array(code === statusNoStatus ? 0 : 2 + Buffer.byteLength(reason));
    if (payload.length > 0) {
      payload[0] = code >>> 8;
      payload[1] = code & 0xff;
      new TextEncoder().encodeInto(reason, payload.subarray(2));
    }
    const sent = this.sendFrame(opClose, payload);
    this.closeSent = true;
    this.writeError ??= new TransportError("closed", "transport: websocket closed for writing");
    if (this.readDone) this.hangUp();
    return sent;
  }

  /** Ends the TCP connection, dropping it if the peer does not end its side soon. */
  private hangUp(): void {
    if (this.lingerTimer !== undefined) return;
    this.socket.end();
    this.lingerTimer = setTimeout(() => this.socket.destroy(), closeLingerMs);
    this.lingerTimer.unref();
  }

  // ---- reading ----

  /** Ends the readable: cleanly if err is undefined. */
  private finishRead(err: TransportError | undefined): void {
    this.readDone = true;
    if (err === undefined) this.feed.end();
    else this.feed.fail(err);
  }

  private socketGone(err: Error | undefined): void {
    if (!this.readDone) {
      const message = err
        ? `transport: websocket: ${err.message}`
        : "transport: websocket: connection ended without a close frame (status 1006)";
      this.finishRead(new TransportError("closed", message, { cause: err }));
    }
    this.writeError ??= new TransportError("closed", "transport: websocket: connection ended", { cause: err });
  }

  /** Refuses what the peer sent: closes with code and fails the readable. */
  private refuse(code: number, message: string): void {
    this.finishRead(new TransportError("protocol", `transport: websocket: ${message}`));
    void this.sendClose(code, message.slice(0, 120)).catch(() => {});
    this.hangUp();
  }

  /** Decodes chunk (which this Conn now owns: payloads are unmasked in place). */
  private decode(chunk: Uint8Array): void {
    const n = chunk.length;
    let pos = 0;
    while (pos < n && !this.readDone) {
      if (this.payloadLeft > 0) {
        const k = Math.min(this.payloadLeft, n - pos);
        const piece = chunk.subarray(pos, pos + k);
        if (this.masked) this.maskPhase = applyMask(piece, this.mask, this.maskPhase);
        if (this.opcode >= opClose) {
          this.control.set(piece, this.controlLength);
          this.controlLength += k;
        } else {
          this.feed.push(piece);
        }
        pos += k;
        this.payloadLeft -= k;
        if (this.payloadLeft === 0) this.frameEnd();
        continue;
      }
      // A header: gather its first two bytes, then the rest they call for.
      const need = this.headerLength < 2 ? 2 : this.fullHeaderLength();
      const k = Math.min(need - this.headerLength, n - pos);
      this.header.set(chunk.subarray(pos, pos + k), this.headerLength);
      this.headerLength += k;
      pos += k;
      if (this.headerLength === 2 && this.fullHeaderLength() > 2) continue;
      if (this.headerLength === this.fullHeaderLength()) {
        this.headerLength = 0;
        this.startFrame();
      }
    }
  }

  private fullHeaderLength(): number {
    const len7 = this.header[1]! & 0x7f;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (this.header[1]! & 0x80 ? 4 : 0);
  }

  /** Checks the header gathered and sets up for its payload. */
  private startFrame(): void {
    const h = this.header;
    const fin = (h[0]! & 0x80) !== 0;
    const opcode = h[0]! & 0x0f;
    const masked = (h[1]! & 0x80) !== 0;
    const len7 = h[1]! & 0x7f;
    let length = len7;
    let at = 2;
    if (len7 === 126) {
      length = (h[2]! << 8) | h[3]!;
      at = 4;
    } else if (len7 === 127) {
      const view = new DataView(h.buffer, h.byteOffset + 2, 8);
      const high = view.getUint32(0);
      // A length past 2^53 cannot be a number exactly, nor be allowed.
      length = high > 0x1fffff ? Infinity : high * 2 ** 32 + view.getUint32(4);
      at = 10;
    }
    if ((h[0]! & 0x70) !== 0) return this.refuse(statusProtocolError, "reserved bits set (no extension was negotiated)");
    if (masked === this.client) {
      return this.refuse(statusProtocolError, this.client ? "masked frame from the server" : "unmasked frame from the client");
    }
    switch (opcode) {
      case opText:
        return this.refuse(statusUnsupportedData, "text message received; qtalk sends binary messages");
      case opBinary:
        if (this.inMessage) return this.refuse(statusProtocolError, "new message before the end of a fragmented one");
        break;
      case opContinuation:
        if (!this.inMessage) return this.refuse(statusProtocolError, "continuation frame outside a fragmented message");
        break;
      case opClose:
      case opPing:
      case opPong:
        if (!fin || length > 125) return this.refuse(statusProtocolError, "fragmented or long control frame");
        break;
      default:
        return this.refuse(statusProtocolError, `unknown opcode ${opcode}`);
    }
    if (length > this.maxFrameSize) {
      return this.refuse(statusTooBig, `frame of ${length} bytes is longer than the limit of ${this.maxFrameSize}`);
    }
    if (opcode < opClose) this.inMessage = !fin;
    this.opcode = opcode;
    this.masked = masked;
    if (masked) this.mask.set(h.subarray(at, at + 4));
    this.maskPhase = 0;
    this.controlLength = 0;
    this.payloadLeft = length;
    if (length === 0) this.frameEnd();
  }

  /** Acts on a control frame once its payload is in. */
  private frameEnd(): void {
    const payload = this.control.subarray(0, this.controlLength);
    switch (this.opcode) {
      case opPing:
        if (!this.closeSent) void this.sendFrame(opPong, payload.slice()).catch(() => {});
        return;
      case opClose: {
        if (payload.length === 1) return this.refuse(statusProtocolError, "close frame with a 1-byte payload");
        const code = payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : statusNoStatus;
        const reason = new TextDecoder().decode(payload.subarray(2));
        this.finishRead(closeStatusError(code, reason));
        // Answer with the same status, and hang up once both are sent.
        void this.sendClose(code, "").catch(() => {});
        this.hangUp();
        return;
      }
    }
  }
}

/** Host and port of a ws address's host, with the scheme's default port. */
function hostAndPort(a: Address): { host: string; port: number } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(a.host)!;
  const host = m[1]!.startsWith("[") ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port: m[2] !== undefined ? Number(m[2]) : a.scheme === "wss" ? 443 : 80 };
}

/**
 * Opens a WebSocket to a ws or wss address with Node's http or https (wss
 * with the system's roots) and returns a Conn over it. Rejects with the
 * signal's reason if it aborts first.
 */
export function dialNodeWebSocket(a: Address, options: WaitOptions & NodeWebSocketOptions = {}): Promise<Conn> {
  const signal = options.signal;
  signal?.throwIfAborted();
  const { host, port } = hostAndPort(a);
  const key = randomFillSync(Buffer.alloc(16)).toString("base64");
  const request = (a.scheme === "wss" ? https : http).request({
    host,
    port,
    path: (a.path || "/") + (a.rawQuery === "" ? "" : "?" + a.rawQuery),
    agent: false,
    headers: {
      Connection: "Upgrade",
      Upgrade: "websocket",
      "Sec-WebSocket-Key": key,
      "Sec-WebSocket-Version": "13",
    },
  });
  const url = webSocketURL(a);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      request.destroy();
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const fail = (err: Error) => {
      signal?.removeEventListener("abort", onAbort);
      reject(err);
    };
    request.on("error", fail);
    request.on("response", (res) => {
      res.resume();
      request.destroy();
      fail(new TransportError("protocol", `transport: websocket handshake with ${url}: status ${res.statusCode} ${res.statusMessage ?? ""}`.trimEnd()));
    });
    request.on("upgrade", (res, socket: Socket, head: Buffer) => {
      signal?.removeEventListener("abort", onAbort);
      if (res.headers.upgrade?.toLowerCase() !== "websocket" || res.headers["sec-websocket-accept"] !== webSocketAccept(key)) {
        socket.destroy();
        return reject(new TransportError("protocol", `transport: websocket handshake with ${url}: bad Upgrade or Sec-WebSocket-Accept in the answer`));
      }
      socket.setNoDelay(true);
      resolve(new WebSocketConn(socket, head, true, url, options));
    });
    request.end();
  });
}

/** Settings of a WebSocket listener. */
export interface WebSocketListenOptions extends WaitOptions, NodeWebSocketOptions {
  /**
   * Host patterns of the web origins, besides the server's own, whose pages
   * may open WebSockets to it: "localhost:5173", "*.example.com", or with a
   * scheme "https://app.example.com", matched case-insensitively; '*'
   * matches any run of characters and '?' one. Requests with an Origin
   * header that matches neither are refused with 403, as Go's are.
   */
  allowedOrigins?: string[];
}

/**
 * Listens for WebSocket upgrades on a ws address with node:http. With a
 * path, only requests for that path are WebSockets and others get 404;
 * without one (or "/"), every upgrade is, and plain requests get 426.
 */
export async function listenNodeWebSocket(a: Address, options: WebSocketListenOptions = {}): Promise<ConnListener> {
  const path = a.path === "/" ? "" : a.path;
  const origins = (options.allowedOrigins ?? []).map(originPattern);
  const queue = new ConnQueue();
  const server = http.createServer((req, res) => {
    const wsPath = path === "" || requestPath(req) === path;
    res.writeHead(wsPath ? 426 : 404, { "Content-Type": "text/plain; charset=utf-8", ...(wsPath ? { "Sec-WebSocket-Version": "13" } : {}) });
    res.end(wsPath ? "Upgrade Required\n" : "404 page not found\n");
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {}); // a reset before the Conn takes over
    if (path !== "" && requestPath(req) !== path) return answer(socket, 404, "404 page not found");
    const h = req.headers;
    if (req.method !== "GET" || !hasToken(h.upgrade, "websocket") || !hasToken(h.connection, "upgrade")) {
      return answer(socket, 400, "not a WebSocket upgrade request");
    }
    if (h["sec-websocket-version"] !== "13") return answer(socket, 426, "unsupported WebSocket version", { "Sec-WebSocket-Version": "13" });
    const key = h["sec-websocket-key"];
    if (key === undefined || Buffer.from(key, "base64").length !== 16) return answer(socket, 400, "bad Sec-WebSocket-Key");
    if (!originAllowed(h.origin, h.host, origins)) return answer(socket, 403, `origin ${h.origin} not allowed`);
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${webSocketAccept(key)}\r\n\r\n`,
    );
    const peer = socket as Socket;
    peer.setNoDelay(true);
    const remote = peer.remoteAddress?.includes(":") ? `[${peer.remoteAddress}]` : peer.remoteAddress;
    queue.push(new WebSocketConn(socket, head, false, `ws://${remote}:${peer.remotePort}`, options));
  });
  const { host, port } = hostAndPort(a);
  await startServer(server, { host: host || undefined, port }, options.signal);
  const bound = server.address() as AddressInfo;
  const boundHost = bound.address.includes(":") ? `[${bound.address}]` : bound.address;
  server.on("error", (err) => {
    queue.close(new TransportError("listen", `transport: accept: ${messageOf(err)}`, { cause: err }));
    server.close();
  });
  return {
    address: formatAddress({ ...a, host: `${boundHost}:${bound.port}`, subport: "" }),
    accept: (acceptOptions?: WaitOptions) => queue.accept(acceptOptions),
    async close() {
      queue.close();
      // Stops accepting; the callback would wait for the WebSockets accepted.
      server.close();
    },
  };
}

/** The path of a request as sent (escaped), without the query. */
function requestPath(req: http.IncomingMessage): string {
  const url = req.url ?? "";
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

function hasToken(header: string | undefined, token: string): boolean {
  return header !== undefined && header.split(",").some((t) => t.trim().toLowerCase() === token);
}

/** Answers an upgrade request that is refused, and hangs up. */
function answer(socket: Duplex, status: number, body: string, headers: Record<string, string> = {}): void {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body) + 1}\r\n${extra}\r\n${body}\n`,
  );
}

/** An allowed-origin pattern as a test of an Origin header's URL. */
function originPattern(pattern: string): (origin: URL) => boolean {
  const source = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  const re = new RegExp(`^${source}$`);
  return pattern.includes("://") ? (u) => re.test(`${u.protocol.slice(0, -1)}://${u.host}`) : (u) => re.test(u.host);
}

/** Whether a request may upgrade: no Origin (not a browser), the server's own origin, or an allowed one. */
function originAllowed(origin: string | undefined, host: string | undefined, patterns: ((u: URL) => boolean)[]): boolean {
  if (origin === undefined) return true;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  if (host !== undefined && u.host.toLowerCase() === host.toLowerCase()) return true;
  return patterns.some((match) => match(u));
}

/** Dials ws and wss, and listens on ws, with this module's WebSocket client and server. */
export function nodeWebSocketConnector(options: WebSocketListenOptions = {}): Connector {
  return {
    dialConn: (a: Address, dialOptions: WaitOptions) => dialNodeWebSocket(a, { ...options, ...dialOptions }),
    async listen(a: Address, listenOptions: WaitOptions) {
      if (a.scheme === "wss") {
        throw new TransportError("unsupported", "transport: unsupported operation: wss listeners need a TLS config, which this package does not take yet");
      }
      return listenNodeWebSocket(a, { ...options, ...listenOptions });
    },
  };
}
