// A peer calls and serves over one session, as Go's talk.Peer.

import type { Session } from "../mux.js";
import { type CallOptions, Client, type ClientOptions, type Response } from "./client.js";
import { RespondMux } from "./respondmux.js";
import { Code, QtalkError } from "./errors.js";
import { type Call, type Handler, type Responder, Server, callHandler } from "./server.js";

/**
 * The built-in label every peer answers, whatever its handler: it replies
 * with its argument, a byte string, unchanged (spec/labels.md, section 6).
 */
export const labelPing = "qtalk:ping";

/** Answers labelPing: the argument back, unchanged; anything but a byte string is invalid_argument. */
async function servePing(_r: Responder, call: Call): Promise<unknown> {
  const payload = await call.receiveArgs();
  // JSON carries a byte string as its base64 text, which goes back as it came.
  const isBytes = payload instanceof Uint8Array || (call.codec.name === "json" && typeof payload === "string");
  if (!isBytes) throw new QtalkError(Code.InvalidArgument, `${labelPing} takes a byte string`);
  return payload;
}

/** size bytes of a pattern that a reply which loses, reorders or truncates bytes does not match (as Go's). */
function pingPayload(size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = i % 251;
  return b;
}

/** Options of a Peer. */
export interface PeerOptions {
  /** What the peer serves to the other side (default: an empty RespondMux). */
  handler?: Handler;
  /** Options of the peer's client; its maxFrameSize defaults to maxFrameSize. */
  client?: ClientOptions;
  /** Bounds the frames the peer accepts, as a client and as a server (default 4 MiB). */
  maxFrameSize?: number;
}

/**
 * A Peer calls and serves over one Session: its calls open channels on
 * the session, and the channels the other side opens are calls it serves
 * with its handler, whose call.caller is the peer's client (callbacks go
 * both ways). Every peer answers labelPing (qtalk:ping) itself, whatever
 * its handler. The peer owns the session: close() closes it.
 */
export class Peer {
  readonly session: Session;
  readonly client: Client;
  readonly handler: Handler;
  /** Settles once the session ended and every handler returned. */
  readonly served: Promise<void>;

  constructor(session: Session, options: PeerOptions = {}) {
    this.session = session;
    const maxFrameSize = options.maxFrameSize;
    this.client = new Client(session, { ...(maxFrameSize === undefined ? {} : { maxFrameSize }), ...options.client });
    this.handler = options.handler ?? new RespondMux();
    const handler = this.handler;
    const respond = (r: Responder, call: Call): unknown =>
      call.fullSelector === labelPing ? servePing(r, call) : callHandler(handler, r, call);
    const server = new Server(respond, maxFrameSize === undefined ? {} : { maxFrameSize });
    this.served = server.serveSession(session, { caller: this.client });
  }

  /** A unary call (Client.call). */
  call<T = unknown>(selector: string, args?: unknown, options?: CallOptions): Promise<T> {
    return this.client.call<T>(selector, args, options);
  }

  /** A call that may continue (Client.stream). */
  stream(selector: string, args?: unknown, options?: CallOptions): Promise<Response> {
    return this.client.stream(selector, args, options);
  }

  /**
   * Calls labelPing on the other side with a payload of size bytes and
   * resolves to the round trip in milliseconds: from just before the call
   * to its reply, which must carry the payload back unchanged (else a
   * data_loss error). The options bound the call as for call().
   */
  async ping(size: number, options?: CallOptions): Promise<number> {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`ping with a size of ${size}`);
    const payload = pingPayload(size);
    const start = performance.now();
    const echo = await this.client.call(labelPing, payload, options);
    const rtt = performance.now() - start;
    // Compared as encoded: JSON brings a byte string back as its base64 text.
    const codec = options?.codec ?? this.client.codec;
    const want = codec.encode(payload);
    const got = codec.encode(echo);
    if (got.length !== want.length || got.some((b, i) => b !== want[i])) {
      throw new QtalkError(Code.DataLoss, `${labelPing}: ${got.length} encoded bytes back for ${want.length} sent`);
    }
    return rtt;
  }

  /** Closes the session and waits for the handlers to return. */
  async close(): Promise<void> {
    this.client.close();
    await this.session.close();
    await this.served;
  }
}
