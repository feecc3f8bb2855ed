// Servers answer the calls that arrive on a Session's channels, each call
// on its own channel, concurrently (spec/rpc.md).

import type { Channel, Session } from "../mux.js";
import { Client, type ClientOptions } from "./client.js";
import { type Codec, codecByName, decodeValue, encodeValue } from "./codec.js";
import { Code, QtalkError, malformed, toQtalkError } from "./errors.js";
import { RawChannel } from "./raw.js";
import {
  FrameKind,
  FrameReader,
  FrameWriter,
  defaultMaxFrameSize,
  errorFrame,
  errorReply,
  frameHeaderLength,
  parseCallHeader,
  parseErrorPayload,
} from "./wire.js";

/** A function that answers calls; what it returns (if it did not answer) is the reply value. */
export type HandlerFunc = (r: Responder, call: Call) => unknown;

/** An object that answers calls, like Go's rpc.Handler. */
export interface HandlerObject {
  respondRPC(r: Responder, call: Call): unknown;
}

/**
 * What answers calls. A handler answers once, with r.return, r.error or
 * r.continue; one that does not answers with what it returns (null for
 * undefined). A thrown QtalkError answers with its code; another thrown
 * Error with codeOf's code (unknown, as Go's handlers returning a plain
 * error); a thrown non-Error with internal. When it returns (its promise
 * settles), the call ends and its channel is closed.
 */
export type Handler = HandlerFunc | HandlerObject;

/** Runs handler for a call. */
export function callHandler(handler: Handler, r: Responder, call: Call): unknown {
  return typeof handler === "function" ? handler(r, call) : handler.respondRPC(r, call);
}

/** Answers a call (Go's rpc.Responder). */
export interface Responder {
  /** Replies with v and ends the call. */
  return(v?: unknown): Promise<void>;
  /** Replies with err (a QtalkError's code, or codeOf's); after continue, ends the stream with an ERROR frame. */
  error(err: unknown): Promise<void>;
  /** Replies with v and keeps the channel open: stream with send() and call.receive(), or take raw bytes with conn(). */
  continue(v?: unknown): Promise<void>;
  /** Sends a value on a continued call. */
  send(v: unknown): Promise<void>;
  /** The channel of a continued call as a raw byte stream. */
  conn(): RawChannel;
  /** Whether the call was answered. */
  readonly responded: boolean;
}

/** How close to its deadline a call the client closes counts as having exceeded it, as in Go. */
const deadlineSlack = 10;

/** The usage errors of a Responder. */
function alreadyAnswered(): QtalkError {
  return new QtalkError(Code.FailedPrecondition, "rpc: call already answered");
}

/** What the client's bytes are: frames, maybe frames or raw bytes (right after continue), raw bytes (after conn). */
type Mode = "framed" | "undecided" | "raw";

/** An incoming call (Go's rpc.Call). */
export class Call implements AsyncIterable<unknown> {
  /** What is called; under a prefix pattern of a RespondMux, the part after the prefix. */
  selector: string;
  /** The selector as the client sent it. */
  readonly fullSelector: string;
  /** The client's key/value pairs. */
  readonly metadata: ReadonlyMap<string, string>;
  /** The codec of the call's values. */
  readonly codec: Codec;
  /** A client over the same session, to call the client back (it must serve calls too, as peers do). */
  readonly caller: Client;
  /** The deadline the client gave (performance.now() time), if any. */
  readonly deadline: number | undefined;

  /** @internal */ mode: Mode = "framed";
  private args: Uint8Array | undefined;
  private ended = false;
  private controller: AbortController | undefined;
  private cancelReason: QtalkError | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private watchWanted = false;
  private watching = false;
  private finished = false;

  /** @internal */
  constructor(
    /** @internal */ readonly frames: FrameReader,
    selector: string,
    metadata: Map<string, string>,
    codec: Codec,
    timeoutNs: number,
    args: Uint8Array,
    caller: Client,
  ) {
    this.selector = this.fullSelector = selector;
    this.metadata = metadata;
    this.codec = codec;
    this.args = args;
    this.caller = caller;
    if (timeoutNs > 0) {
      const ms = timeoutNs / 1e6;
      this.deadline = performance.now() + ms;
      this.timer = setTimeout(() => this.cancel(new QtalkError(Code.DeadlineExceeded, "deadline exceeded")), ms);
    }
  }

  /**
   * Aborts when the client cancels (CANCEL frame: reason with its code),
   * closes or half-closes the call at a frame boundary, the deadline
   * passes (deadline_exceeded), the session ends, or the handler returns.
   * The reason is a QtalkError of code canceled or deadline_exceeded.
   * Until it is first read, nobody watches the client for it.
   */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.cancelReason !== undefined) this.controller.abort(this.cancelReason);
      this.watchWanted = true;
      this.watch();
    }
    return this.controller.signal;
  }

  /** @internal Ends the call's signal with reason; later calls do nothing. */
  cancel(reason: QtalkError): void {
    if (this.cancelReason !== undefined) return;
    this.cancelReason = reason;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.controller?.abort(reason);
  }

  /** @internal Why the call was cancelled, if it was. */
  get cancelled(): QtalkError | undefined {
    return this.cancelReason;
  }

  /** The client closed the call: counts as the deadline passing within deadlineSlack of it, as in Go. */
  private clientClosed(): void {
    if (this.deadline !== undefined && this.deadline - performance.now() < deadlineSlack) {
      this.cancel(new QtalkError(Code.DeadlineExceeded, "deadline exceeded"));
      return;
    }
    this.cancel(new QtalkError(Code.Canceled, "the client closed the call"));
  }

  /**
   * The next value from the client: first the call's arguments, then
   * streamed values; { done: true } once the client ended its stream.
   * Rejects with a QtalkError: invalid_argument for a value that does not
   * decode, canceled if the client cancelled or closed the call.
   */
  async receive<T = unknown>(): Promise<IteratorResult<T, undefined>> {
    if (this.args !== undefined) {
      const args = this.args;
      this.args = undefined;
      return { done: false, value: decodeValue(this.codec, args) as T };
    }
    if (this.ended) return { done: true, value: undefined };
    if (this.mode === "undecided") this.mode = "framed";
    let f;
    try {
      f = await this.frames.next();
    } catch (err) {
      if (!(err instanceof QtalkError)) this.clientClosed(); // the channel failed
      throw err;
    }
    if (f === null) {
      this.clientClosed();
      throw new QtalkError(Code.Canceled, "the client closed the call");
    }
    switch (f.kind) {
      case FrameKind.Value:
        this.watch();
        return { done: false, value: decodeValue(this.codec, f.payload) as T };
      case FrameKind.End:
        this.ended = true;
        this.watch();
        return { done: true, value: undefined };
      case FrameKind.Cancel: {
        const reason = cancelReason(parseErrorPayload(f.payload));
        this.cancel(reason);
        throw reason;
      }
    }
    throw malformed(`unexpected frame kind ${f.kind} from the client`);
  }

  /** The call's arguments: the first value, if not received yet. */
  async receiveArgs<T = unknown>(): Promise<T> {
    const r = await this.receive<T>();
    if (r.done) throw new QtalkError(Code.InvalidArgument, "the client sent no arguments");
    return r.value;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    for (;;) {
      const r = await this.receive();
      if (r.done) return;
      yield r.value;
    }
  }

  /**
   * @internal Starts watching the client for a CANCEL frame or the end of
   * the channel while at a frame boundary, if the signal was looked at.
   * It reads through the frame reader, so nothing it reads is lost to the
   * handler; it stops at the first frame that is not a CANCEL.
   */
  watch(): void {
    if (!this.watchWanted || this.watching || this.finished || this.mode === "raw") return;
    this.watching = true;
    this.watchLoop().then(
      () => (this.watching = false),
      () => {
        this.watching = false;
        if (!this.finished && this.mode !== "raw") this.clientClosed(); // the channel failed
      },
    );
  }

  private async watchLoop(): Promise<void> {
    for (;;) {
      if (this.finished || this.mode === "raw" || this.cancelReason !== undefined) return;
      const kind = this.frames.peekKind();
      if (kind === undefined) {
        const more = await this.frames.fill();
        if (this.finished || this.isRaw()) return;
        if (!more) {
          // The end of the channel at a frame boundary: the client closed the call.
          if (this.frames.buffered === 0) this.clientClosed();
          return;
        }
        if (this.mode === "undecided") return; // frames or raw bytes: the handler will say
        continue;
      }
      if (kind !== FrameKind.Cancel || this.mode !== "framed") return;
      const reason = this.peekCancel();
      if (reason !== undefined) {
        this.cancel(reason);
        return;
      }
      if (!(await this.frames.fill())) return; // ends inside the frame: the handler's read reports it
    }
  }

  private isRaw(): boolean {
    return this.mode === "raw";
  }

  /** The reason of the CANCEL frame at the head of the buffer, once it is whole. */
  private peekCancel(): QtalkError | undefined {
    const head = this.frames.peek(frameHeaderLength);
    if (head === undefined) return undefined;
    const n = ((head[1]! << 24) | (head[2]! << 16) | (head[3]! << 8) | head[4]!) >>> 0;
    if (n > this.frames.maxFrameSize) return new QtalkError(Code.Canceled, "the client closed the call");
    const frame = this.frames.peek(frameHeaderLength + n);
    if (frame === undefined) return undefined;
    try {
      return cancelReason(parseErrorPayload(frame.subarray(frameHeaderLength)));
    } catch {
      return new QtalkError(Code.Canceled, "the client closed the call");
    }
  }

  /** @internal The handler is done: no more watching; the signal aborts. */
  finish(): void {
    this.finished = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.cancel(new QtalkError(Code.Canceled, "the call ended"));
  }
}

/** The reason a CANCEL frame gives: deadline_exceeded as it is, any other code as canceled. */
function cancelReason(e: QtalkError): QtalkError {
  const code = e.code === Code.DeadlineExceeded ? Code.DeadlineExceeded : Code.Canceled;
  return new QtalkError(code, e.message, { details: e.details });
}

/** Implements Responder for one call. */
class Reply implements Responder {
  responded = false;
  continued = false;
  /** The last write: writes are ordered, so once it is handed over, all are. */
  lastWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly channel: Channel,
    private readonly call: Call,
  ) {}

  private write(b: Uint8Array): Promise<void> {
    const w = this.channel.write(b);
    this.lastWrite = w.catch(() => {});
    return w;
  }

  private reply(cont: boolean, v: unknown): Promise<void> {
    if (this.responded) return Promise.reject(alreadyAnswered());
    let value: Uint8Array;
    try {
      value = encodeValue(this.call.codec, v ?? null, Code.Internal);
    } catch (err) {
      return this.error(err);
    }
    this.responded = true;
    const w = new FrameWriter(16 + value.length);
    const r = w.beginFrame(FrameKind.Reply);
    w.replyHeader(cont);
    w.endFrame(r);
    const f = w.beginFrame(FrameKind.Value);
    w.raw(value);
    w.endFrame(f);
    return this.write(w.finish());
  }

  return(v?: unknown): Promise<void> {
    return this.reply(false, v);
  }

  continue(v?: unknown): Promise<void> {
    if (this.responded) return Promise.reject(alreadyAnswered());
    // Leave framed mode before the reply goes out: the client may answer
    // it at once with raw bytes, which must not be read as frames.
    this.call.mode = "undecided";
    const out = this.reply(true, v);
    if (this.responded) this.continued = true;
    else this.call.mode = "framed";
    this.call.watch();
    return out;
  }

  error(err: unknown): Promise<void> {
    const e = toQtalkError(err);
    if (this.continued) return this.write(errorFrame(FrameKind.Error, e));
    if (this.responded) return Promise.reject(alreadyAnswered());
    this.responded = true;
    return this.write(errorReply(e));
  }

  send(v: unknown): Promise<void> {
    if (!this.continued) return Promise.reject(new QtalkError(Code.FailedPrecondition, "rpc: send before continue"));
    if (this.call.mode === "undecided") {
      // The first send decides that the call streams frames.
      this.call.mode = "framed";
      this.call.watch();
    }
    let value: Uint8Array;
    try {
      value = encodeValue(this.call.codec, v);
    } catch (err) {
      return Promise.reject(err);
    }
    const w = new FrameWriter(frameHeaderLength + value.length);
    const f = w.beginFrame(FrameKind.Value);
    w.raw(value);
    w.endFrame(f);
    return this.write(w.finish());
  }

  conn(): RawChannel {
    this.call.mode = "raw";
    return new RawChannel(this.channel, this.call.frames);
  }
}

/** The refusal of a call the server will not process: the client sends it again. */
function refusal(): QtalkError {
  return new QtalkError(Code.Unavailable, "the server is shutting down", { refused: true });
}

/** Options of a Server. */
export interface ServerOptions {
  /** Bounds the frames the server accepts (default 4 MiB). */
  maxFrameSize?: number;
  /** Options of the clients handlers call back with (call.caller), when serveSession is not given one. */
  callerOptions?: ClientOptions;
}

/** Options of Server.serveSession. */
export interface ServeOptions {
  /**
   * Stops serving when aborted: no more calls are accepted, channels with
   * no call yet get a refused reply, calls in flight finish.
   */
  signal?: AbortSignal;
  /** The client handlers call back with (call.caller); by default a new one over the session. */
  caller?: Client;
}

/** A Server answers the calls of sessions with a Handler. */
export class Server {
  readonly handler: Handler;
  readonly maxFrameSize: number;
  private readonly callerOptions: ClientOptions | undefined;

  constructor(handler: Handler, options: ServerOptions = {}) {
    this.handler = handler;
    this.maxFrameSize = options.maxFrameSize ?? defaultMaxFrameSize;
    this.callerOptions = options.callerOptions;
  }

  /**
   * Serves the calls opened on session, each concurrently, until the
   * session ends or the signal aborts; resolves once the calls in flight
   * are done. It does not close the session.
   */
  async serveSession(session: Session, options: ServeOptions = {}): Promise<void> {
    const { signal } = options;
    const caller = options.caller ?? new Client(session, this.callerOptions);
    const state: SessionState = { idle: new Set(), calls: new Set(), stopping: false };
    const served = new Set<Promise<void>>();
    for (;;) {
      let ch: Channel;
      try {
        ch = await session.accept(signal ? { signal } : undefined);
      } catch {
        break; // the session ended, or the signal aborted
      }
      const p = this.serveChannel(ch, caller, state).finally(() => served.delete(p));
      served.add(p);
    }
    if (signal?.aborted) {
      state.stopping = true;
      for (const ch of state.idle) void refuse(ch);
    } else {
      for (const call of state.calls) call.cancel(new QtalkError(Code.Canceled, "the session ended"));
    }
    await Promise.all(served);
    // A caller of our own: drop the channels it opened ahead of callbacks.
    if (options.caller === undefined) caller.close();
  }

  private async serveChannel(ch: Channel, caller: Client, state: SessionState): Promise<void> {
    const frames = new FrameReader(ch, this.maxFrameSize);
    // Until its call arrives, the channel is idle (clients open channels
    // ahead of calls): stopping refuses it.
    state.idle.add(ch);
    let call: Call;
    try {
      call = await this.readRequest(frames, caller);
    } catch (err) {
      if (state.idle.delete(ch) && err instanceof QtalkError) await ch.write(errorReply(err)).catch(() => {});
      await ch.close();
      return;
    } finally {
      state.idle.delete(ch);
    }
    if (state.stopping) {
      await refuse(ch);
      return;
    }
    state.calls.add(call);
    const r = new Reply(ch, call);
    try {
      const out = await callHandler(this.handler, r, call);
      if (!r.responded) await r.return(out);
    } catch (err) {
      if (!r.responded || r.continued) await r.error(err).catch(() => {});
    } finally {
      state.calls.delete(call);
    }
    const cut = call.cancelled;
    call.finish();
    if (cut !== undefined && r.continued && call.mode !== "raw") {
      // The stream was cut short (deadline, cancel): say so, so that the
      // client does not take the end for a normal one.
      void r.error(cut).catch(() => {});
    }
    await r.lastWrite;
    await ch.close();
  }

  /** Reads the call header and the arguments (spec/rpc.md sections 4 and 10). */
  private async readRequest(frames: FrameReader, caller: Client): Promise<Call> {
    const first = await frames.next();
    if (first === null) throw new QtalkError(Code.Canceled, "the client closed the channel before calling");
    if (first.kind !== FrameKind.Call) throw malformed(`got frame kind ${first.kind}, want a call header`);
    const h = parseCallHeader(first.payload);
    const codec = codecByName(h.codec);
    const args = await frames.next();
    if (args === null) throw malformed("the call ended before its arguments");
    if (args.kind !== FrameKind.Value) throw malformed(`got frame kind ${args.kind}, want the arguments`);
    return new Call(frames, h.selector, h.metadata, codec, h.timeoutNs, args.payload, caller);
  }
}

interface SessionState {
  /** Channels accepted with no call yet. */
  idle: Set<Channel>;
  /** Calls whose handler runs. */
  calls: Set<Call>;
  stopping: boolean;
}

/** Refuses the call of a channel on which none began, and closes it. */
async function refuse(ch: Channel): Promise<void> {
  await ch.write(errorReply(refusal())).catch(() => {});
  await ch.close();
}

/**
 * Serves the calls of session with handler until the session ends or the
 * signal aborts (see Server.serveSession).
 */
export function serveSession(
  session: Session,
  handler: Handler,
  options: ServeOptions & ServerOptions = {},
): Promise<void> {
  return new Server(handler, options).serveSession(session, options);
}
