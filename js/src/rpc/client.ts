// Clients make calls over a mux Session, one channel per call (spec/rpc.md).

import type { Channel, Session } from "../mux.js";
import { CBOR, type Codec, decodeValue, encodeValue } from "./codec.js";
import { Code, QtalkError, abortCode, abortError, malformed } from "./errors.js";
import { RawChannel } from "./raw.js";
import {
  FrameKind,
  FrameReader,
  FrameWriter,
  type Metadata,
  defaultMaxFrameSize,
  parseErrorPayload,
  parseReplyHeader,
} from "./wire.js";

/** How many channels a client keeps open ahead of its calls by default, as Go's rpc.Client. */
export const defaultOpenAhead = 2;

/** How many times a call refused unprocessed is sent again on a new channel. */
const maxResends = 2;

/** Options of a Client. */
export interface ClientOptions {
  /** The codec of the client's calls (default CBOR). */
  codec?: Codec;
  /** Bounds the frames the client accepts (default 4 MiB). */
  maxFrameSize?: number;
  /**
   * Channels kept open ahead of calls, so that a call need not wait for
   * the round trip of an open (default 2; 0 opens each call's channel
   * when the call starts).
   */
  openAhead?: number;
}

/** Options of one call. */
export interface CallOptions {
  /** Aborting it cancels the call: a CANCEL frame with the reason's code, then close. */
  signal?: AbortSignal;
  /** Milliseconds the call may take; the server sees the deadline in the call header. */
  timeout?: number;
  /** Key/value pairs sent in the call header. */
  metadata?: Metadata;
  /** The codec of this call, instead of the client's. */
  codec?: Codec;
}

/** The reason of a call whose timeout passed. */
function deadlineExceeded(): QtalkError {
  return new QtalkError(Code.DeadlineExceeded, "deadline exceeded");
}

/**
 * A Client makes calls over a Session: call() for unary calls, stream()
 * for calls that continue (streams of values, or raw bytes).
 */
export class Client {
  readonly session: Session;
  readonly codec: Codec;
  readonly maxFrameSize: number;
  private readonly openAhead: number;
  /** Channels opened ahead of calls, at most openAhead. */
  private readonly ready: Channel[] = [];
  private opening = 0;
  private closed = false;

  constructor(session: Session, options: ClientOptions = {}) {
    this.session = session;
    this.codec = options.codec ?? CBOR;
    this.maxFrameSize = options.maxFrameSize ?? defaultMaxFrameSize;
    this.openAhead = Math.max(0, options.openAhead ?? defaultOpenAhead);
  }

  /**
   * Calls selector with args and resolves with the decoded reply value.
   * Rejects with a QtalkError: the server's error, or one of code canceled
   * or deadline_exceeded when the signal aborted or the timeout passed. A
   * reply that continues is closed once its value is read.
   */
  async call<T = unknown>(selector: string, args?: unknown, options?: CallOptions): Promise<T> {
    const r = await this.start(selector, args, options);
    if (r.continued) await r.close();
    return r.value as T;
  }

  /**
   * Calls selector with args and resolves with the Response, which the
   * caller must close() if it continued (streams of values, or raw bytes
   * with conn()). The signal and timeout bound the whole call.
   */
  stream(selector: string, args?: unknown, options?: CallOptions): Promise<Response> {
    return this.start(selector, args, options);
  }

  /** Stops keeping channels open ahead and closes those it holds. Calls still go on. */
  close(): void {
    this.closed = true;
    for (const ch of this.ready.splice(0)) void ch.close();
  }

  private async start(selector: string, args: unknown, options: CallOptions = {}): Promise<Response> {
    const codec = options.codec ?? this.codec;
    const signal = options.signal;
    if (signal?.aborted) throw abortError("call", signal.reason);
    const deadline = options.timeout === undefined ? undefined : performance.now() + Math.max(0, options.timeout);
    const value = encodeValue(codec, args);
    for (let resends = 0; ; resends++) {
      const { channel, pooled } = await this.channel(signal, deadline);
      const r = new Response(channel, codec, this.maxFrameSize, signal, deadline);
      try {
        await r.begin(selector, value, options.metadata);
        if (!r.continued) await r.close();
        return r;
      } catch (err) {
        await r.close();
        const resend = (err instanceof QtalkError && err.refused) || (pooled && !r.sent);
        if (resend && resends < maxResends && !r.isAborted) continue;
        throw err;
      }
    }
  }

  /**
   * A channel for a call: one opened ahead if there is one, else a new
   * one, whose open the signal and the deadline bound.
   */
  private async channel(signal?: AbortSignal, deadline?: number): Promise<{ channel: Channel; pooled: boolean }> {
    const pooled = this.ready.pop();
    this.topUp();
    if (pooled !== undefined) return { channel: pooled, pooled: true };
    let bound = signal;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    if (deadline !== undefined) {
      const ac = new AbortController();
      bound = ac.signal;
      timer = setTimeout(() => ac.abort(deadlineExceeded()), Math.max(0, deadline - performance.now()));
      if (signal !== undefined) {
        onAbort = () => ac.abort(signal.reason);
        signal.addEventListener("abort", onAbort);
      }
    }
    try {
      return { channel: await this.session.open(bound ? { signal: bound } : undefined), pooled: false };
    } catch (err) {
      if (bound?.aborted) throw abortError("call", bound.reason);
      throw err;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      if (onAbort !== undefined) signal!.removeEventListener("abort", onAbort);
    }
  }

  /** Starts opening channels until openAhead are ready or being opened. */
  private topUp(): void {
    while (!this.closed && this.ready.length + this.opening < this.openAhead) {
      this.opening++;
      this.session.open().then(
        (ch) => {
          this.opening--;
          if (this.closed || this.ready.length >= this.openAhead) void ch.close();
          else this.ready.push(ch);
        },
        () => {
          // The session ended or refused: calls will find out themselves.
          this.opening--;
        },
      );
    }
  }
}

/**
 * The reply to a call. If continued, the channel stays open: receive()
 * and async iteration read the server's values, send() and closeSend()
 * stream the client's, conn() takes the raw bytes instead; close() ends
 * the call.
 */
export class Response implements AsyncIterable<unknown> {
  /** The reply value. */
  value: unknown = undefined;
  /** Whether the call goes on after the reply. */
  continued = false;
  /** Whether any byte of the call was handed to the channel (a refused call is resent only if not). */
  sent = false;

  private readonly frames: FrameReader;
  private raw = false;
  private ended = false;
  private closed = false;
  private abortReason: unknown = undefined;
  private aborted = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort = () => this.abort(this.signal!.reason);

  constructor(
    private readonly channel: Channel,
    readonly codec: Codec,
    maxFrameSize: number,
    private readonly signal: AbortSignal | undefined,
    private readonly deadline: number | undefined,
  ) {
    this.frames = new FrameReader(channel, maxFrameSize);
  }

  /** Whether the call's signal aborted or its deadline passed. */
  get isAborted(): boolean {
    return this.aborted;
  }

  /** Sends the call and reads the reply. */
  async begin(selector: string, value: Uint8Array, metadata?: Metadata): Promise<void> {
    this.signal?.addEventListener("abort", this.onAbort);
    let timeoutNs = 0;
    if (this.deadline !== undefined) {
      const left = this.deadline - performance.now();
      timeoutNs = Math.max(1, Math.round(left * 1e6));
      this.timer = setTimeout(() => this.abort(deadlineExceeded()), Math.max(0, left));
    }
    const w = new FrameWriter(64 + selector.length * 3 + value.length);
    const call = w.beginFrame(FrameKind.Call);
    w.callHeader(selector, this.codec.name, timeoutNs, metadata);
    w.endFrame(call);
    const v = w.beginFrame(FrameKind.Value);
    w.raw(value);
    w.endFrame(v);
    let writeError: unknown;
    const written = this.channel.write(w.finish()).then(
      () => {},
      (err: unknown) => (writeError = err),
    );
    this.sent = true;
    try {
      // Read the reply even if the write fails: a server that refused the
      // call (say, arguments over its frame limit) says why before closing.
      const reply = await this.frames.next();
      if (reply === null) {
        await written;
        if (writeError !== undefined) throw writeError;
        throw new QtalkError(Code.Unavailable, "the server closed the call without replying");
      }
      if (reply.kind !== FrameKind.Reply) throw malformed(`got frame kind ${reply.kind}, want a reply header`);
      const { cont, error } = parseReplyHeader(reply.payload);
      if (error !== undefined) throw error;
      const first = await this.frames.next();
      if (first === null || first.kind !== FrameKind.Value) throw malformed("reply header without a value");
      this.value = decodeValue(this.codec, first.payload);
      this.continued = cont;
    } catch (err) {
      if (writeError !== undefined && isChannelFailure(err)) {
        this.sent = false;
        throw writeError;
      }
      throw this.failure("call", err);
    }
  }

  /** The error to report for err: the abort's if the call was aborted. */
  private failure(what: string, err: unknown): unknown {
    return this.aborted ? abortError(what, this.abortReason) : err;
  }

  /** Ends the call for reason: a CANCEL frame if it is framed, then close. */
  private abort(reason: unknown): void {
    if (this.closed || this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    if (!this.raw) {
      const w = new FrameWriter(64);
      const f = w.beginFrame(FrameKind.Cancel);
      const message = reason instanceof Error ? reason.message : String(reason);
      w.error({ code: abortCode(reason), message, details: new Uint8Array(0) });
      w.endFrame(f);
      // Not awaited: close() retracts it if the window has no room for it.
      this.channel.write(w.finish()).catch(() => {});
    }
    void this.close();
  }

  /**
   * The next value the server sent: { done: true } after its last value
   * (END, or the channel's end at a frame boundary). Rejects with the
   * server's error if it ended the stream with one.
   */
  async receive<T = unknown>(): Promise<IteratorResult<T, undefined>> {
    if (this.ended) return { done: true, value: undefined };
    try {
      const f = await this.frames.next();
      if (f === null || f.kind === FrameKind.End) {
        this.ended = true;
        return { done: true, value: undefined };
      }
      switch (f.kind) {
        case FrameKind.Value:
          return { done: false, value: decodeValue(this.codec, f.payload) as T };
        case FrameKind.Error:
        case FrameKind.Cancel:
          this.ended = true;
          throw parseErrorPayload(f.payload);
      }
      throw malformed(`unexpected frame kind ${f.kind}`);
    } catch (err) {
      throw this.failure("receive", err);
    }
  }

  /** Sends v to the server on a continued call. */
  async send(v: unknown): Promise<void> {
    const value = encodeValue(this.codec, v);
    const w = new FrameWriter(frameHeaderBytes + value.length);
    const f = w.beginFrame(FrameKind.Value);
    w.raw(value);
    w.endFrame(f);
    try {
      await this.channel.write(w.finish());
    } catch (err) {
      throw this.failure("send", err);
    }
  }

  /** Tells the server that no more values follow (an END frame). */
  async closeSend(): Promise<void> {
    try {
      await this.channel.write(endFrame());
    } catch (err) {
      throw this.failure("send", err);
    }
  }

  /** The call's channel as a raw byte stream, starting with the bytes that came after the reply value. */
  conn(): RawChannel {
    this.raw = true;
    return new RawChannel(this.channel, this.frames);
  }

  /** Ends the call and closes its channel. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signal?.removeEventListener("abort", this.onAbort);
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.channel.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    for (;;) {
      const r = await this.receive();
      if (r.done) return;
      yield r.value;
    }
  }
}

const frameHeaderBytes = 5;

/** An END frame (a fresh one: a channel may hold a write's buffer until it resolves). */
function endFrame(): Uint8Array {
  return Uint8Array.of(FrameKind.End, 0, 0, 0, 0);
}

/** Whether err is the channel failing rather than a frame the server sent. */
function isChannelFailure(err: unknown): boolean {
  return !(err instanceof QtalkError);
}
