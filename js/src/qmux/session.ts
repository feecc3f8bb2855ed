// A qmux session (spec/qmux.md) over one Conn: one read loop that decodes
// and dispatches messages without ever waiting for the application, and
// one writer that owns all sending and coalesces whatever is queued into
// one write per batch.

import type * as mux from "../mux.js";
import { QtalkMuxError } from "../errors.js";
import { ByteBuffer } from "./buffer.js";
import { Channel, type ChannelHost } from "./channel.js";
import { type Config, maxGrownWindows, resolveConfig } from "./config.js";
import { Queue } from "./queue.js";
import {
  type Frame,
  headerLength,
  maxHeaderLength,
  maxUint32,
  msgChannelClose,
  msgChannelData,
  msgChannelEOF,
  msgChannelOpen,
  msgChannelOpenConfirm,
  msgChannelOpenFailure,
  msgChannelWindowAdjust,
  parseFrame,
  protocolError,
  putFrame,
  putShortFrame,
} from "./wire.js";

/**
 * Payload bytes in one batch, so that control messages queued meanwhile
 * wait at most one batch and a batch stays a modest allocation.
 */
const batchBudget = 256 << 10;

/** Writes shorter than this are copied into the control queue and resolve at once (see tryCopyData). */
const copyThreshold = 2 << 10;

/** Bytes of copied short writes the control queue may hold; past it, short writes queue like long ones. */
const copyBudget = 64 << 10;

/**
 * How long a local close() keeps trying to send what was queued before it
 * (the data of writes that resolved, CLOSEs) to a peer that does not read.
 */
const closeFlushTimeoutMs = 5000;

interface Opener {
  resolve(c: Channel): void;
  reject(err: unknown): void;
}

interface AcceptWaiter {
  resolve(c: Channel): void;
  reject(err: unknown): void;
}

/**
 * A qmux session over conn; implements mux.Session. Both ends of a
 * connection create one: qmux has no client and server roles. The session
 * owns conn and closes it when it ends.
 *
 * What the peer can make it hold is bounded: each channel buffers at most
 * its window; confirmed channels wait for accept() up to acceptBacklog,
 * as many opens more wait unanswered, and further opens are refused; at
 * most maxChannels numbers are held; replies the peer provokes queue up to
 * maxControlBacklog bytes, past which the session ends; window grants and
 * ready channels queue at most once per channel. What the application
 * queues is bounded by what it waits for: a write holds the caller's
 * buffer, not a copy, until the writer took it, and the writer takes at
 * most one batch (batchBudget bytes of payload) per write to the Conn.
 */
export class Session implements mux.Session, ChannelHost {
  readonly done: Promise<Error | undefined>;
  readonly remoteAddress?: string;
  readonly config: Readonly<Config>;

  private readonly conn: mux.Conn;
  /** conn.readable's reader, unless conn delivers by conn.receive. */
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private readonly write: (chunk: Uint8Array) => Promise<void>;
  private settleDone!: (reason: Error | undefined) => void;
  private readonly writerDone: Promise<void>;

  /** Channels by this side's number; undefined where free. */
  private readonly chans: (Channel | undefined)[] = [];
  private readonly freeIds: number[] = [];
  private numChans = 0;
  /** What the channels' windows took past windowSize (growWindow), within maxGrownWindows. */
  private grownWindows = 0;
  private readonly openers = new Map<Channel, Opener>();

  /** Confirmed channels waiting for accept(), at most config.acceptBacklog. */
  private readonly accepts = new Queue<Channel>();
  /** Opens left unanswered while accepts is full, at most config.acceptBacklog. */
  private readonly waitingOpens = new Queue<Frame>();
  private readonly acceptWaiters = new Queue<AcceptWaiter>();

  /** Encoded control messages and copied short writes, in order, for the writer. */
  private readonly ctl = new ByteBuffer();
  /** Bytes of ctl that are copied short writes. */
  private ctlData = 0;
  /** Channels with a window grant to send. */
  private readonly adjusts = new Queue<Channel>();
  /** Channels with a write or EOF to send and window for it. */
  private readonly ready = new Queue<Channel>();
  private wakeWriter: (() => void) | undefined;
  /** The pieces of the batch being built, and headers they point into. */
  private readonly pieces: Uint8Array[] = [];
  private readonly headers = new ByteBuffer();

  private ended = false;
  private closedLocally = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private connClosed = false;
  private endReason: Error | undefined;

  // Decoder state, for messages split across chunks of conn.readable.
  private readonly partial = new Uint8Array(maxHeaderLength);
  private partialLength = 0; // header bytes in partial; 0 between messages
  private partialNeed = 0; // the header length of partial's message type
  private payloadLeft = 0; // DATA payload bytes still to come
  private payloadChannel: Channel | undefined; // where they go; undefined to discard them

  /** Starts a session over conn. Throws a RangeError if config is invalid. */
  constructor(conn: mux.Conn, config?: Partial<Config>) {
    this.config = resolveConfig(config);
    this.conn = conn;
    if (conn.remoteAddress !== undefined) this.remoteAddress = conn.remoteAddress;
    this.done = new Promise((resolve) => (this.settleDone = resolve));
    if (conn.write !== undefined) {
      this.write = conn.write.bind(conn);
    } else {
      const writer = conn.writable.getWriter();
      writer.closed.catch(() => {}); // failures show in write(); this would be unhandled
      this.write = (chunk) => writer.write(chunk);
    }
    this.writerDone = this.writeLoop();
    if (conn.receive !== undefined) {
      conn.receive({ data: (chunk) => this.receive(chunk), end: (err) => this.receiveEnd(err) });
    } else {
      this.reader = conn.readable.getReader();
      this.reader.closed.catch(() => {}); // as writer.closed
      void this.readLoop(this.reader);
    }
  }

  /** What operations fail with once the session ended; undefined while it runs. */
  get endError(): Error | undefined {
    return this.endReason;
  }

  get windowSize(): number {
    return this.config.windowSize;
  }

  /** @internal */
  get maxWindowSize(): number {
    return this.config.maxWindowSize;
  }

  /** @internal */
  growWindow(want: number): number {
    const n = Math.max(0, Math.min(want, maxGrownWindows - this.grownWindows));
    this.grownWindows += n;
    return n;
  }

  /** @internal */
  returnGrowth(n: number): void {
    this.grownWindows -= n;
  }

  /** How many channel numbers are held (diagnostics and tests). */
  get channelCount(): number {
    return this.numChans;
  }

  open(options?: mux.WaitOptions): Promise<Channel> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.endError) return Promise.reject(this.endError);
    const c = this.newChannel();
    if (c === undefined) {
      return Promise.reject(new QtalkMuxError("too_many_channels", `qmux: ${this.config.maxChannels} channels held`));
    }
    const at = this.ctl.reserve(13);
    putFrame(this.ctl.bytes, at, {
      type: msgChannelOpen,
      recipient: 0,
      sender: c.id,
      window: this.config.windowSize,
      maxPacket: this.config.maxPacketSize,
      length: 0,
    });
    this.wake();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        // The answer is still to come and will name c's number: the
        // reader releases it then (spec section 5).
        this.openers.delete(c);
        c.abandoned = true;
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.openers.set(c, {
        resolve: (ch) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(ch);
        },
        reject: (err) => {
          signal?.removeEventListener("abort", onAbort);
          reject(err);
        },
      });
    });
  }

  accept(options?: mux.WaitOptions): Promise<Channel> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.endError) return Promise.reject(this.endError);
    if (this.accepts.length > 0) {
      const c = this.accepts.shift();
      this.promoteWaiting();
      return Promise.resolve(c);
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.acceptWaiters.remove(waiter);
        reject(signal!.reason);
      };
      const waiter: AcceptWaiter = {
        resolve: (c) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(c);
        },
        reject: (err) => {
          signal?.removeEventListener("abort", onAbort);
          reject(err);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.acceptWaiters.push(waiter);
    });
  }

  /**
   * Ends the session: pending and later operations fail at once, but what
   * was queued before (the data of writes that resolved, CLOSEs) is still
   * sent, for up to closeFlushTimeoutMs if the peer does not read; then the
   * Conn is closed and the returned promise resolves.
   */
  async close(): Promise<void> {
    this.end(undefined, true);
    await this.writerDone;
  }

  // ---- the reader ----

  private async readLoop(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    while (!this.ended) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        return this.receiveEnd(err);
      }
      if (chunk.done) return this.receiveEnd(undefined);
      this.receive(chunk.value);
    }
  }

  /** Decodes a chunk of the stream; a malformed message ends the session. */
  private receive(chunk: Uint8Array): void {
    if (this.ended) return;
    try {
      this.decode(chunk);
    } catch (err) {
      // A protocol error, or the control backlog full. Anything else
      // would be a bug here: it ends the session too, as itself.
      this.end(err instanceof Error ? err : new Error(String(err)), false);
    }
  }

  /** Ends the session at the end of the stream: err undefined for a clean end. */
  private receiveEnd(err: unknown): void {
    if (this.ended) return;
    if (err !== undefined) {
      return this.end(new QtalkMuxError("session_closed", `qmux: read: ${messageOf(err)}`, { cause: err }), false);
    }
    const truncated = this.partialLength > 0 || this.payloadLeft > 0;
    this.end(truncated ? protocolError("connection ended in the middle of a message") : undefined, false);
  }

  /** Decodes and dispatches the messages in chunk, keeping any incomplete one for the next. */
  private decode(chunk: Uint8Array): void {
    const n = chunk.length;
    let pos = 0;
    while (pos < n && !this.ended) {
      if (this.payloadLeft > 0) {
        const k = Math.min(this.payloadLeft, n - pos);
        this.payloadChannel?.receivePayload(chunk, pos, pos + k);
        this.payloadLeft -= k;
        pos += k;
        continue;
      }
      if (this.partialLength === 0) {
        const type = chunk[pos]!;
        const need = headerLength(type);
        if (need === 0) throw protocolError(`unknown message type ${type}`);
        if (n - pos >= need) {
          this.dispatch(parseFrame(chunk, pos));
          pos += need;
          continue;
        }
        this.partial.set(chunk.subarray(pos), 0);
        this.partialLength = n - pos;
        this.partialNeed = need;
        return;
      }
      const k = Math.min(this.partialNeed - this.partialLength, n - pos);
      this.partial.set(chunk.subarray(pos, pos + k), this.partialLength);
      this.partialLength += k;
      pos += k;
      if (this.partialLength === this.partialNeed) {
        this.partialLength = 0;
        this.dispatch(parseFrame(this.partial, 0));
      }
    }
  }

  private dispatch(f: Frame): void {
    switch (f.type) {
      case msgChannelOpen:
        return this.handleOpen(f);
      case msgChannelData:
        return this.handleData(f);
    }
    const c = this.lookup(f);
    switch (f.type) {
      case msgChannelOpenConfirm:
        return this.handleOpenConfirm(c, f);
      case msgChannelOpenFailure:
        return this.handleOpenFailure(c);
      case msgChannelWindowAdjust:
        return this.handleWindowAdjust(c, f);
      case msgChannelEOF:
        if (!c.sentClose) c.receiveEOF(); // else discarded (spec section 7)
        return;
      default:
        return this.handleClose(c);
    }
  }

  /**
   * Finds the channel a message other than OPEN names: a number in use,
   * waiting for an answer exactly when the message is one, and not closed
   * by the peer already (spec section 9, items 6 to 8).
   */
  private lookup(f: Frame): Channel {
    const c = this.chans[f.recipient];
    if (c === undefined) throw protocolError(`message type ${f.type} for unknown channel ${f.recipient}`);
    const answer = f.type === msgChannelOpenConfirm || f.type === msgChannelOpenFailure;
    if (answer !== (c.state === "opening")) {
      throw protocolError(`message type ${f.type} for channel ${f.recipient} in the wrong state`);
    }
    if (c.gotClose) throw protocolError(`message type ${f.type} for channel ${f.recipient} after its CLOSE`);
    return c;
  }

  /**
   * Confirms an open while the accept backlog has room; otherwise leaves it
   * unanswered, so that the opener waits until accept() makes room. Only
   * when that queue is full too, or the channel limit is reached, or the
   * open announces a max packet of 0, is it refused.
   */
  private handleOpen(f: Frame): void {
    if (f.maxPacket === 0 || this.numChans >= this.config.maxChannels) {
      this.queueReply(msgChannelOpenFailure, f.sender);
    } else if (this.waitingOpens.length === 0 && this.accepts.length < this.config.acceptBacklog) {
      this.confirm(f);
    } else if (this.waitingOpens.length < this.config.acceptBacklog) {
      this.waitingOpens.push(f);
    } else {
      this.queueReply(msgChannelOpenFailure, f.sender);
    }
  }

  /** Accepts the peer's open f and hands the channel to accept(); the backlog must have room. */
  private confirm(f: Frame): void {
    const c = this.newChannel();
    if (c === undefined) return this.queueReply(msgChannelOpenFailure, f.sender);
    c.state = "open";
    c.remoteId = f.sender;
    c.sendWindow = f.window;
    c.remoteMaxPacket = f.maxPacket;
    this.checkControlBacklog();
    const at = this.ctl.reserve(17);
    putFrame(this.ctl.bytes, at, {
      type: msgChannelOpenConfirm,
      recipient: f.sender,
      sender: c.id,
      window: this.config.windowSize,
      maxPacket: this.config.maxPacketSize,
      length: 0,
    });
    this.wake();
    if (this.acceptWaiters.length > 0) this.acceptWaiters.shift().resolve(c);
    else this.accepts.push(c);
  }

  /** Confirms the oldest unanswered open now that accept() made room. */
  private promoteWaiting(): void {
    if (this.ended || this.waitingOpens.length === 0 || this.accepts.length >= this.config.acceptBacklog) return;
    try {
      this.confirm(this.waitingOpens.shift());
    } catch (err) {
      this.end(err as Error, false);
    }
  }

  private handleOpenConfirm(c: Channel, f: Frame): void {
    if (f.maxPacket === 0) throw protocolError(`OPEN_CONFIRMATION for channel ${c.id} with max packet 0`);
    c.state = "open";
    c.remoteId = f.sender;
    c.sendWindow = f.window;
    c.remoteMaxPacket = f.maxPacket;
    if (c.abandoned) {
      // Nobody wants the channel any more: close it, and free the number
      // when the peer's CLOSE completes the handshake.
      c.sentClose = true;
      c.released = true;
      this.queueReply(msgChannelClose, c.remoteId);
      return;
    }
    const opener = this.openers.get(c);
    this.openers.delete(c);
    opener?.resolve(c);
  }

  private handleOpenFailure(c: Channel): void {
    c.state = "rejected";
    this.release(c);
    const opener = this.openers.get(c);
    this.openers.delete(c);
    opener?.reject(new QtalkMuxError("open_rejected"));
  }

  private handleWindowAdjust(c: Channel, f: Frame): void {
    if (c.sentClose) return; // discarded (spec section 7)
    if (c.sendWindow + f.window > maxUint32) {
      throw protocolError(`WINDOW_ADJUST of ${f.window} overflows the window of ${c.sendWindow} of channel ${c.id}`);
    }
    c.sendWindow += f.window;
    this.markReady(c);
  }

  private handleClose(c: Channel): void {
    c.receiveClose();
    if (!c.sentClose) {
      c.sentClose = true;
      this.queueReply(msgChannelClose, c.remoteId);
    }
    if (c.released) this.release(c);
  }

  /**
   * Checks a DATA header before any of its payload is taken: the length
   * against the max packet first, whatever the channel, then the channel
   * and its window. The payload then goes to the channel as it arrives.
   */
  private handleData(f: Frame): void {
    if (f.length > this.config.maxPacketSize) {
      throw protocolError(
        `DATA of ${f.length} bytes for channel ${f.recipient} exceeds the max packet size ${this.config.maxPacketSize}`,
      );
    }
    const c = this.lookup(f);
    if (c.sentClose) {
      this.payloadChannel = undefined; // this side closed it; the peer had not seen that yet
    } else {
      c.acceptData(f.length);
      this.payloadChannel = c;
    }
    this.payloadLeft = f.length;
  }

  // ---- channel numbers ----

  private newChannel(): Channel | undefined {
    if (this.numChans >= this.config.maxChannels) return undefined;
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.chans.length;
    const c = new Channel(this, id);
    this.chans[id] = c;
    this.numChans++;
    return c;
  }

  /** @internal */
  release(c: Channel): void {
    if (this.chans[c.id] !== c) return;
    this.chans[c.id] = undefined;
    this.freeIds.push(c.id);
    this.numChans--;
  }

  // ---- the send queue ----

  /** @internal */
  queueControl(type: number, recipient: number): void {
    const at = this.ctl.reserve(5);
    putShortFrame(this.ctl.bytes, at, type, recipient);
    this.wake();
  }

  /** Queues a control message the peer provoked, within the control backlog. */
  private queueReply(type: number, recipient: number): void {
    this.checkControlBacklog();
    this.queueControl(type, recipient);
  }

  /**
   * Ends the session (by throwing out of the reader) when the peer keeps
   * provoking replies it does not read, instead of queueing them without
   * bound.
   */
  private checkControlBacklog(): void {
    if (this.ctl.length - this.ctlData >= this.config.maxControlBacklog) {
      throw new QtalkMuxError(
        "session_closed",
        `qmux: peer is not reading: control backlog of ${this.config.maxControlBacklog} bytes full`,
      );
    }
  }

  /**
   * @internal A short write that fits the peer's window and max packet is
   * copied into the control queue as one DATA message, so that it resolves
   * at once and leaves in the same batch as what is queued with it (a
   * request, then its EOF). The caller checked that c has nothing queued.
   */
  tryCopyData(c: Channel, data: Uint8Array): boolean {
    const n = data.length;
    if (n >= copyThreshold || n > c.sendWindow || n > c.remoteMaxPacket || this.ctlData + n > copyBudget) return false;
    const at = this.ctl.reserve(9 + n);
    putShortFrame(this.ctl.bytes, at, msgChannelData, c.remoteId, n);
    this.ctl.bytes.set(data, at + 9);
    this.ctlData += 9 + n;
    c.sendWindow -= n;
    this.wake();
    return true;
  }

  /** @internal */
  markReady(c: Channel): void {
    if (c.readyQueued || c.ops.length === 0 || c.sendWindow === 0) return;
    c.readyQueued = true;
    this.ready.push(c);
    this.wake();
  }

  /** @internal */
  queueGrant(c: Channel): void {
    if (this.ended || c.adjustQueued) return;
    c.adjustQueued = true;
    this.adjusts.push(c);
    this.wake();
  }

  private wake(): void {
    const wake = this.wakeWriter;
    if (wake === undefined) return;
    this.wakeWriter = undefined;
    afterTurn(wake);
  }

  private hasWork(): boolean {
    return this.ctl.length > 0 || this.adjusts.length > 0 || this.ready.length > 0;
  }

  // ---- the writer ----

  /**
   * Writes batches until the session ends. An idle writer wakes after the
   * turn that queued something (see afterTurn), so that everything queued
   * in it shares one write: a reply's CLOSE leaves with the next call. While
   * a write is under way the next batch accumulates. No timers.
   */
  private async writeLoop(): Promise<void> {
    try {
      for (;;) {
        while (!this.ended && !this.hasWork()) await new Promise<void>((resolve) => (this.wakeWriter = resolve));
        if (this.ended) break;
        const batch = this.fillBatch();
        if (batch.length > 0) await this.write(batch);
      }
      if (this.closedLocally && this.ctl.length > 0) {
        const rest = this.ctl.view().slice();
        this.ctl.reset();
        await this.write(rest);
      }
    } catch (err) {
      this.end(new QtalkMuxError("session_closed", `qmux: write: ${messageOf(err)}`, { cause: err }), false);
    }
    clearTimeout(this.flushTimer);
    this.closeConn();
  }

  /**
   * Moves the queued control messages, window grants and up to batchBudget
   * bytes of writes into one new array (the transport may keep it). Ready
   * channels send one packet per turn and go to the back of the queue, so
   * large writes interleave fairly.
   */
  private fillBatch(): Uint8Array {
    const pieces = this.pieces;
    const headers = this.headers;
    let total = 0;
    const add = (piece: Uint8Array) => {
      pieces.push(piece);
      total += piece.length;
    };
    if (this.ctl.length > 0) add(this.ctl.view());
    while (this.adjusts.length > 0) {
      const c = this.adjusts.shift();
      c.adjustQueued = false;
      if (!c.sentClose && c.grant > 0) {
        const at = headers.reserve(9);
        putShortFrame(headers.bytes, at, msgChannelWindowAdjust, c.remoteId, c.grant);
        add(headers.bytes.subarray(at, at + 9));
      }
      c.grant = 0;
    }
    let budget = batchBudget;
    while (budget > 0 && this.ready.length > 0) {
      const c = this.ready.shift();
      c.readyQueued = false;
      if (c.ops.length === 0) continue; // retracted meanwhile
      const op = c.ops.peek();
      if (op.data !== undefined) {
        if (c.sendWindow === 0) continue; // a WINDOW_ADJUST puts it back
        const k = Math.min(op.data.length - op.sent, c.sendWindow, c.remoteMaxPacket, budget);
        const at = headers.reserve(9);
        putShortFrame(headers.bytes, at, msgChannelData, c.remoteId, k);
        add(headers.bytes.subarray(at, at + 9));
        add(op.data.subarray(op.sent, op.sent + k));
        op.sent += k;
        c.sendWindow -= k;
        budget -= k;
        // Resolving runs nothing now: the caller continues after this
        // batch was copied, below.
        if (op.sent === op.data.length) c.ops.shift().resolve();
      }
      if (c.ops.length > 0 && c.ops.peek().data === undefined) {
        // closeWrite's EOF, after the last of the writes before it.
        const at = headers.reserve(5);
        putShortFrame(headers.bytes, at, msgChannelEOF, c.remoteId);
        add(headers.bytes.subarray(at, at + 5));
        c.ops.shift().resolve();
      }
      this.markReady(c);
    }
    const batch = new Uint8Array(total);
    let at = 0;
    for (const piece of pieces) {
      batch.set(piece, at);
      at += piece.length;
    }
    pieces.length = 0;
    headers.reset();
    this.ctl.reset();
    this.ctlData = 0;
    return batch;
  }

  // ---- the end ----

  /**
   * Ends the session: reason undefined for a local close or a clean end of
   * the stream, else the error. Every pending and later operation fails.
   * After a local close the writer first sends what was queued.
   */
  private end(reason: Error | undefined, local: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.closedLocally = local;
    let err: Error;
    if (reason === undefined) {
      err = new QtalkMuxError("session_closed", local ? undefined : "qmux: connection closed by peer");
    } else if (reason instanceof QtalkMuxError && reason.kind === "session_closed") {
      err = reason;
    } else {
      err = new QtalkMuxError("session_closed", messageOf(reason), { cause: reason });
    }
    this.endReason = err;
    for (const opener of this.openers.values()) opener.reject(err);
    this.openers.clear();
    while (this.acceptWaiters.length > 0) this.acceptWaiters.shift().reject(err);
    for (const c of this.chans) c?.sessionEnded(err);
    this.settleDone(reason);
    if (local) {
      this.flushTimer = setTimeout(() => this.closeConn(), closeFlushTimeoutMs);
    } else {
      this.closeConn();
    }
    this.wake();
  }

  private closeConn(): void {
    if (this.connClosed) return;
    this.connClosed = true;
    this.reader?.cancel().catch(() => {});
    try {
      this.conn.close();
    } catch {
      // Closing is best effort: the session is over either way.
    }
  }
}

/**
 * Runs fn once the current turn, its microtasks included, is over: in Node
 * with setImmediate, after the I/O callbacks of this round of the event
 * loop, so that the chains of awaits one received message starts (a reply
 * read, the next call made) queue all they send first. Elsewhere, as a
 * microtask: a browser's WebSocket send queues without a system call, so
 * waiting buys less there.
 */
const afterTurn: (fn: () => void) => void =
  typeof globalThis.setImmediate === "function" ? (fn) => void globalThis.setImmediate(fn) : queueMicrotask;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
