// A peer calls and serves over one session, as Go's talk.Peer.

import type { Session } from "../mux.js";
import { type CallOptions, Client, type ClientOptions, type Response } from "./client.js";
import { RespondMux } from "./respondmux.js";
import { type Handler, Server } from "./server.js";

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
 * both ways). The peer owns the session: close() closes it.
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
    const server = new Server(this.handler, maxFrameSize === undefined ? {} : { maxFrameSize });
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

  /** Closes the session and waits for the handlers to return. */
  async close(): Promise<void> {
    this.client.close();
    await this.session.close();
    await this.served;
  }
}
