// ws:// and wss:// with the web platform's WebSocket, as Go's
// transport/ws.go: the byte stream travels in binary messages, each Conn
// write one message, and the messages received are concatenated.

import type { Conn, WaitOptions } from "../mux.js";
import type { Address } from "./address.js";
import { TransportError } from "./errors.js";
import type { Connector } from "./registry.js";
import { feedReadable } from "./streams.js";

/** Bytes the browser may buffer unsent before writes wait (see webSocketConn). */
export const defaultWebSocketHighWaterMark = 1 << 20;

/** Bytes received and unread before a browser WebSocket Conn fails (see webSocketConn). */
export const defaultWebSocketMaxQueued = 16 << 20;

/** Settings of WebSocket Conns over the web platform's WebSocket. */
export interface WebSocketOptions {
  /** The WebSocket class, where there is no global one (or to use another). */
  WebSocket?: typeof WebSocket;
  /** Writes wait while more than this many bytes are buffered unsent. */
  highWaterMark?: number;
  /** The Conn fails when more than this many received bytes are unread. */
  maxQueued?: number;
}

/** The URL a ws or wss address dials. */
export function webSocketURL(a: Address): string {
  return `${a.scheme}://${a.host}${a.path}${a.rawQuery === "" ? "" : "?" + a.rawQuery}`;
}

/**
 * The error of a WebSocket closed with code, or undefined for a clean end.
 * As with Go's coder/websocket NetConn, 1000 (normal closure) and 1001
 * (going away) are clean ends; any other code, 1005 (no status) and 1006
 * (no close frame) included, is an error.
 */
export function closeStatusError(code: number, reason: string): TransportError | undefined {
  if (code === 1000 || code === 1001) return undefined;
  return new TransportError("closed", `transport: websocket closed with status ${code}${reason === "" ? "" : ": " + reason}`);
}

/**
 * Returns a Conn over an open WebSocket (binaryType is set to
 * "arraybuffer"). Each write is sent as one binary message; a text message
 * from the peer is a protocol error that closes it with 1003.
 *
 * A browser WebSocket cannot be paused or told when its buffer drains, so:
 * a write resolves at once unless more than highWaterMark bytes are
 * buffered unsent, and then once bufferedAmount is back under it (checked
 * on a timer, every 1 ms at first and up to every 16 ms); and received
 * messages are queued for the reader without limit up to maxQueued bytes,
 * beyond which the Conn fails and the WebSocket is closed with 1008 (a qmux
 * session reads at once, its windows bounding what the peer sends).
 *
 * There is no half-close: closing the writable closes the WebSocket with
 * 1000 after what was sent.
 */
export function webSocketConn(ws: WebSocket, options: WebSocketOptions = {}): Conn {
  const highWaterMark = options.highWaterMark ?? defaultWebSocketHighWaterMark;
  const maxQueued = options.maxQueued ?? defaultWebSocketMaxQueued;
  ws.binaryType = "arraybuffer";
  const feed = feedReadable({ pause() {}, resume() {}, cancel() {} }, maxQueued);
  let closedError: TransportError | undefined;
  const fail = (err: TransportError, code: number, reason: string) => {
    closedError ??= err;
    feed.fail(err);
    ws.close(code, reason);
  };
  ws.addEventListener("message", (ev: MessageEvent) => {
    if (!(ev.data instanceof ArrayBuffer)) {
      fail(new TransportError("protocol", "transport: websocket: text message received; qtalk sends binary messages"), 1003, "binary messages only");
      return;
    }
    feed.push(new Uint8Array(ev.data));
    if (feed.queuedBytes > maxQueued) {
      fail(new TransportError("protocol", `transport: websocket: more than ${maxQueued} bytes received and unread`), 1008, "too much unread");
    }
  });
  ws.addEventListener("close", (ev: CloseEvent) => {
    const err = closeStatusError(ev.code, ev.reason);
    closedError ??= err ?? new TransportError("closed", "transport: websocket closed");
    if (err === undefined) feed.end();
    else feed.fail(err);
  });

  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (closedError !== undefined || ws.readyState !== ws.OPEN) throw closedError ?? new TransportError("closed", "transport: websocket closed");
      ws.send(chunk);
      for (let delay = 1; ws.bufferedAmount > highWaterMark; delay = Math.min(delay * 2, 16)) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (closedError !== undefined) throw closedError;
      }
    },
    close() {
      ws.close(1000);
    },
    abort() {
      ws.close(1000);
    },
  });

  return {
    readable: feed.readable,
    writable,
    remoteAddress: ws.url,
    close() {
      const err = new TransportError("closed", "transport: websocket closed");
      closedError ??= err;
      feed.fail(err);
      ws.close(1000);
    },
  };
}

/**
 * Opens a WebSocket to url and returns a Conn over it (see webSocketConn).
 * Rejects with the signal's reason if it aborts first.
 */
export function dialWebSocket(url: string, options: WaitOptions & WebSocketOptions = {}): Promise<Conn> {
  const WebSocketClass = options.WebSocket ?? globalThis.WebSocket;
  if (WebSocketClass === undefined) {
    return Promise.reject(new TransportError("unsupported", "transport: unsupported operation: no WebSocket class here (pass one as the WebSocket option)"));
  }
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const ws = new WebSocketClass(url);
    ws.binaryType = "arraybuffer";
    const settle = () => {
      signal?.removeEventListener("abort", onAbort);
      ws.removeEventListener("open", onOpen);
      ws.removeEventListener("close", onClose);
    };
    const onAbort = () => {
      settle();
      ws.close();
      reject(signal!.reason);
    };
    const onOpen = () => {
      settle();
      resolve(webSocketConn(ws, options));
    };
    // Browsers say nothing of why a WebSocket failed to open, by design.
    const onClose = (ev: CloseEvent) => {
      settle();
      reject(new TransportError("closed", `transport: websocket to ${url} failed to open (status ${ev.code})`));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    ws.addEventListener("open", onOpen);
    ws.addEventListener("close", onClose);
  });
}

/** A connector dialing ws and wss addresses with the web platform's WebSocket; it cannot listen. */
export function webSocketConnector(options: WebSocketOptions = {}): Connector {
  return {
    dialConn: (a: Address, dialOptions: WaitOptions) => dialWebSocket(webSocketURL(a), { ...options, ...dialOptions }),
  };
}
