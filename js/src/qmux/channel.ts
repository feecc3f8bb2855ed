// One qmux channel: its receive buffer and window, its queue of writes
// waiting for the session's writer, and its half of the close handshake.

import { chunksOf, readableOf } from "../channelviews.js";
import type * as mux from "../mux.js";
import { QtalkMuxError } from "../errors.js";
import { Queue } from "./queue.js";
import { msgChannelClose, msgChannelEOF, protocolError } from "./wire.js";

/** What a Channel needs from its Session. */
export interface ChannelHost {
  readonly windowSize: number;
  readonly maxWindowSize: number;
  /** Takes up to want bytes of the session's room for windows grown past windowSize, and returns how many it took. */
  growWindow(want: number): number;
  /** Gives back n bytes that growWindow took. */
  returnGrowth(n: number): void;
  /** Why operations fail once the session ended; undefined while it runs. */
  readonly endError: Error | undefined;
  /** Queues a control message the application caused (EOF, CLOSE) for the writer. */
  queueControl(type: number, recipient: number): void;
  /** Queues a short write as one copied DATA message if it may skip the channel's queue; reports whether it did. */
  tryCopyData(c: Channel, data: Uint8Array): boolean;
  /** Puts c on the writer's ready queue if it has something it may send. */
  markReady(c: Channel): void;
  /** Queues a window grant of c for the writer. */
  queueGrant(c: Channel): void;
  /** Frees c's number once its close handshake is complete. */
  release(c: Channel): void;
}

/** A write (or the EOF after writes) waiting for the writer. */
export interface SendOp {
  /** The bytes to send; undefined for EOF. */
  data: Uint8Array | undefined;
  /** How many bytes of data were handed to the writer. */
  sent: number;
  resolve(): void;
  reject(err: Error): void;
}

/** Received bytes: a segment of storage filled from `end` on and read from `start` on. */
interface Segment {
  bytes: Uint8Array;
  start: number;
  end: number;
}

/**
 * The smallest storage allocated for received bytes. Small payloads share
 * segments, so that a peer sending many tiny DATA messages makes this side
 * hold about as many bytes as it sent, not an object per message.
 */
const minSegmentSize = 1024;

/**
 * Received bytes are kept as a view of the Conn's chunk, not copied, when
 * they are at least 1/maxViewOverhead of its storage: the storage held for
 * them is then at most that many times their length.
 */
const maxViewOverhead = 4;

export type ChannelState = "opening" | "open" | "rejected";

function closedError(): QtalkMuxError {
  return new QtalkMuxError("channel_closed");
}

/**
 * A qmux channel; implements mux.Channel. The fields marked internal are
 * the session's: they are read and written by its reader and writer.
 */
export class Channel implements mux.Channel {
  /** @internal */ state: ChannelState = "opening";
  /** @internal The opener gave up before the answer: close it when it comes. */
  abandoned = false;
  /** @internal */ remoteId = 0;
  /** @internal */ remoteMaxPacket = 0;
  /** @internal Bytes this side may still send. */
  sendWindow = 0;
  /** @internal Writes and EOF waiting for the writer, in order. */
  readonly ops = new Queue<SendOp>();
  /** @internal In the session's ready queue. */
  readyQueued = false;
  /** @internal Window to give back to the peer. */
  grant = 0;
  /** @internal In the session's adjust queue. */
  adjustQueued = false;
  /** @internal */ sentEOF = false;
  /** @internal */ sentClose = false;
  /** @internal */ gotClose = false;
  /** @internal No application holds the channel: close() was called, or no one ever got it. */
  released = false;

  private readonly segments = new Queue<Segment>();
  private buffered = 0;
  /** Bytes the peer may still send. */
  private receiveWindow: number;
  /** The channel's window: windowSize, or more once grown. */
  private windowSize: number;
  /** Bytes read but not yet granted back. */
  private consumed = 0;
  private gotEOF = false;
  private closed = false;
  private readWaiters: (() => void)[] = [];
  private readableStream: ReadableStream<Uint8Array> | undefined;
  private writableStream: WritableStream<Uint8Array> | undefined;

  constructor(
    private readonly host: ChannelHost,
    readonly id: number,
  ) {
    this.receiveWindow = this.windowSize = host.windowSize;
  }

  /** Bytes received and not yet read: at most the window this side gave, maxWindowSize at most. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  async read(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.closed) throw closedError();
      if (this.buffered > 0) return this.take();
      if (this.gotEOF) return null;
      const err = this.host.endError;
      if (err) throw err;
      await new Promise<void>((resolve) => this.readWaiters.push(resolve));
    }
  }

  /** Takes the unread bytes of the first segment and grants window back if it is time to. */
  private take(): Uint8Array {
    const seg = this.segments.peek();
    const out = seg.bytes.subarray(seg.start, seg.end);
    // Only the last segment, if it has room, takes later bytes, after out.
    if (this.segments.length > 1 || seg.end === seg.bytes.length) this.segments.shift();
    else seg.start = seg.end;
    this.buffered -= out.length;
    this.consumed += out.length;
    // One adjust per half window read, and none once the peer will send
    // no more. A channel read that fast streams: its window doubles, up
    // to maxWindowSize, as far as the session has room.
    if (!this.gotEOF && !this.sentClose && this.consumed >= this.windowSize / 2) {
      const more = this.host.growWindow(Math.min(this.windowSize, this.host.maxWindowSize - this.windowSize));
      this.windowSize += more;
      this.grant += this.consumed + more;
      this.receiveWindow += this.consumed + more;
      this.consumed = 0;
      this.host.queueGrant(this);
    }
    return out;
  }

  write(data: Uint8Array): Promise<void> {
    const err = this.writeError();
    if (err) return Promise.reject(err);
    if (data.length === 0) return Promise.resolve();
    if (this.ops.length === 0 && this.host.tryCopyData(this, data)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.ops.push({ data, sent: 0, resolve, reject });
      this.host.markReady(this);
    });
  }

  closeWrite(): Promise<void> {
    const err = this.writeError();
    if (err) return Promise.reject(err);
    this.sentEOF = true;
    if (this.ops.length === 0) {
      this.host.queueControl(msgChannelEOF, this.remoteId);
      return Promise.resolve();
    }
    // After the writes still queued.
    return new Promise((resolve, reject) => this.ops.push({ data: undefined, sent: 0, resolve, reject }));
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.dropReceived();
    this.returnGrowth();
    this.released = true;
    this.retract(closedError);
    if (!this.host.endError && !this.sentClose) {
      this.sentClose = true;
      this.host.queueControl(msgChannelClose, this.remoteId);
    }
    if (this.gotClose) this.host.release(this);
    return Promise.resolve();
  }

  get readable(): ReadableStream<Uint8Array> {
    this.readableStream ??= readableOf(this);
    return this.readableStream;
  }

  get writable(): WritableStream<Uint8Array> {
    this.writableStream ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      close: () => this.closeWrite(),
      abort: () => this.close(),
    });
    return this.writableStream;
  }

  /** The received chunks until the end of the stream. Stopping early leaves the channel open. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return chunksOf(this);
  }

  /** Why a write or closeWrite cannot proceed, if it cannot. */
  private writeError(): Error | undefined {
    if (this.host.endError) return this.host.endError;
    if (this.released || this.sentEOF || this.sentClose) return closedError();
    return undefined;
  }

  /**
   * @internal Fails every queued write and EOF with the error of why(),
   * made only if one is queued: an error's stack costs more than a call.
   */
  retract(why: () => Error): void {
    if (this.ops.length === 0) return;
    const err = why();
    while (this.ops.length > 0) this.ops.shift().reject(err);
  }

  /** Gives the session back the room the window took past windowSize: no more data will be granted. */
  private returnGrowth(): void {
    if (this.windowSize === this.host.windowSize) return;
    this.host.returnGrowth(this.windowSize - this.host.windowSize);
    this.windowSize = this.host.windowSize;
  }

  private dropReceived(): void {
    while (this.segments.length > 0) this.segments.shift();
    this.buffered = 0;
    this.wakeReaders();
  }

  private wakeReaders(): void {
    if (this.readWaiters.length === 0) return;
    const waiters = this.readWaiters;
    this.readWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * @internal Checks a DATA header of length payload bytes for this open,
   * not locally closed channel and takes the bytes from the window.
   */
  acceptData(length: number): void {
    if (this.gotEOF) throw protocolError(`DATA for channel ${this.id} after its EOF`);
    if (length > this.receiveWindow) {
      throw protocolError(`DATA of ${length} bytes for channel ${this.id} exceeds its window of ${this.receiveWindow}`);
    }
    this.receiveWindow -= length;
  }

  /**
   * @internal Appends src[start:end], part or all of a payload whose
   * header acceptData checked. src is the session's to give: a chunk of the Conn's. So that what a
   * channel holds stays near its window, a view holds its chunk's storage
   * only when the bytes are a good part of it; others are copied, small
   * payloads sharing storage.
   */
  receivePayload(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n * maxViewOverhead >= src.buffer.byteLength) {
      // Keep a view rather than copy: allocating storage costs more than
      // the copy. A full segment, so later bytes go to a new one.
      this.segments.push({ bytes: src.subarray(start, end), start: 0, end: n });
      this.buffered += n;
      this.wakeReaders();
      return;
    }
    let tail = this.segments.length > 0 ? this.segments.peekLast() : undefined;
    while (start < end) {
      if (tail === undefined || tail.end === tail.bytes.length) {
        // For this piece only, not the whole payload: the rest may come as a view.
        tail = { bytes: new Uint8Array(Math.max(minSegmentSize, end - start)), start: 0, end: 0 };
        this.segments.push(tail);
      }
      const k = Math.min(end - start, tail.bytes.length - tail.end);
      tail.bytes.set(src.subarray(start, start + k), tail.end);
      tail.end += k;
      start += k;
      this.buffered += k;
    }
    this.wakeReaders();
  }

  /** @internal Records the peer's EOF. */
  receiveEOF(): void {
    if (this.gotEOF) throw protocolError(`second EOF for channel ${this.id}`);
    this.gotEOF = true;
    this.returnGrowth();
    this.wakeReaders();
  }

  /** @internal Records the peer's CLOSE: reads end after the buffered bytes, writes fail. */
  receiveClose(): void {
    this.gotClose = true;
    this.gotEOF = true;
    this.returnGrowth();
    this.retract(closedError);
    this.wakeReaders();
  }

  /** @internal Fails pending operations once the session ended. */
  sessionEnded(err: Error): void {
    this.retract(() => err);
    this.wakeReaders();
  }
}

