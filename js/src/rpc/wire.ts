// The rpc framing of spec/rpc.md: frames (kind, uint32 big-endian length,
// payload), uvarints, strings, and the call, reply and error encodings.

import type { Channel } from "../mux.js";
import { Code, QtalkError, malformed } from "./errors.js";

/** Frame kinds (spec/rpc.md section 3). */
export const FrameKind = {
  Call: 1,
  Reply: 2,
  Value: 3,
  Error: 4,
  End: 5,
  Cancel: 6,
} as const;

/** The bytes of a frame header: kind and length. */
export const frameHeaderLength = 5;

/** The payload bound receivers apply unless configured otherwise: 4 MiB. */
export const defaultMaxFrameSize = 4 << 20;

/** Reply header flags. */
export const ReplyFlag = { Continue: 0x01, Error: 0x02, Refused: 0x04 } as const;

/** The longest uvarint, in bytes. */
export const maxUvarintLength = 10;

/** A call's string key/value pairs; a Map or a plain record on the way out. */
export type Metadata = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

/** The fields of a CALL payload. */
export interface CallHeader {
  selector: string;
  codec: string;
  /** Nanoseconds the client still gives the call; 0 for no deadline. */
  timeoutNs: number;
  metadata: Map<string, string>;
}

/** The fields of an error encoding (reply headers, ERROR and CANCEL frames). */
export interface WireError {
  code: Code;
  message: string;
  details: Uint8Array;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * Appends frames to a growing buffer. finish() hands the bytes out, and
 * the writer starts a new buffer: a channel may hold what it was given
 * until its write resolves.
 */
export class FrameWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.length + n, 2 * this.buf.length));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Starts a frame of kind; returns where it starts, for endFrame. */
  beginFrame(kind: number): number {
    this.reserve(frameHeaderLength);
    const start = this.length;
    this.buf[start] = kind;
    this.length += frameHeaderLength;
    return start;
  }

  /** Sets the length of the frame begun at start to what was appended since. */
  endFrame(start: number): void {
    this.view.setUint32(start + 1, this.length - start - frameHeaderLength);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  /** Appends n, a non-negative integer, as a uvarint. */
  uvarint(n: number): void {
    this.reserve(maxUvarintLength);
    while (n >= 0x80) {
      this.buf[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.length++] = n;
  }

  bytes(b: Uint8Array): void {
    this.uvarint(b.length);
    this.raw(b);
  }

  raw(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  string(s: string): void {
    // Reserve the worst case (3 bytes per UTF-16 unit) and the longest
    // length prefix that needs, write, then move it if the prefix is shorter.
    const max = s.length * 3;
    this.reserve(maxUvarintLength + max);
    const at = this.length;
    const prefix = uvarintLength(max);
    const { written } = utf8.encodeInto(s, this.buf.subarray(at + prefix, at + prefix + max));
    const need = uvarintLength(written);
    if (need !== prefix) this.buf.copyWithin(at + need, at + prefix, at + prefix + written);
    this.uvarint(written);
    this.length += written;
  }

  /** Appends an error encoding. */
  error(e: WireError): void {
    this.uvarint(e.code);
    this.string(e.message);
    this.bytes(e.details);
  }

  /** Appends a CALL payload. */
  callHeader(selector: string, codec: string, timeoutNs: number, metadata?: Metadata): void {
    this.string(selector);
    this.string(codec);
    this.uvarint(timeoutNs);
    if (metadata === undefined) {
      this.uvarint(0);
      return;
    }
    const pairs: Iterable<readonly [string, string]> =
      metadata instanceof Map ? metadata.entries() : Object.entries(metadata as Record<string, string>);
    const sizeAt = this.length;
    let count = 0;
    this.uvarint(0); // patched below; rewritten if the count takes more than one byte
    const start = this.length;
    for (const [k, v] of pairs) {
      this.string(k);
      this.string(v);
      count++;
    }
    if (count < 0x80) {
      this.buf[sizeAt] = count;
      return;
    }
    const pairsBytes = this.buf.slice(start, this.length);
    this.length = sizeAt;
    this.uvarint(count);
    this.raw(pairsBytes);
  }

  /** Appends a REPLY payload: flags and, for an error, the error. */
  replyHeader(cont: boolean, err?: QtalkError): void {
    let flags = cont ? ReplyFlag.Continue : 0;
    if (err !== undefined) flags |= ReplyFlag.Error | (err.refused ? ReplyFlag.Refused : 0);
    this.byte(flags);
    if (err !== undefined) this.error(err);
  }

  /** The bytes appended so far; the writer starts over with a new buffer. */
  finish(): Uint8Array {
    const out = this.buf.subarray(0, this.length);
    this.buf = new Uint8Array(this.buf.length);
    this.view = new DataView(this.buf.buffer);
    this.length = 0;
    return out;
  }
}

/** The length of n as a uvarint. */
export function uvarintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

/** Encodes n, a non-negative integer, as a uvarint. */
export function encodeUvarint(n: number): Uint8Array {
  const w = new FrameWriter(maxUvarintLength);
  w.uvarint(n);
  return w.finish();
}

/**
 * Reads the fields of a header payload. Every read checks the bytes left:
 * a malformed payload throws a QtalkError (invalid_argument, "rpc:
 * malformed frame: ...").
 */
export class HeaderReader {
  private pos = 0;
  /** Whether the last uvarint read was 2^63 or more. */
  atLeast2p63 = false;

  constructor(private readonly b: Uint8Array) {}

  get remaining(): number {
    return this.b.length - this.pos;
  }

  /**
   * Reads a uvarint as Go's binary.Uvarint does: at most 10 bytes, not
   * overflowing 64 bits. Values above 2^53 come back rounded.
   */
  uvarint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < maxUvarintLength; i++) {
      if (this.pos >= this.b.length) throw malformed("bad integer in header: truncated");
      const c = this.b[this.pos++]!;
      if (i === maxUvarintLength - 1 && c > 1) throw malformed("bad integer in header: overflows 64 bits");
      value += (c & 0x7f) * scale;
      if (c < 0x80) {
        this.atLeast2p63 = i === maxUvarintLength - 1 && c === 1;
        return value;
      }
      scale *= 0x80;
    }
    throw malformed("bad integer in header: longer than 10 bytes");
  }

  byte(): number {
    if (this.pos >= this.b.length) throw malformed("header too short");
    return this.b[this.pos++]!;
  }

  /** Reads a length-prefixed byte string; the result aliases the payload. */
  bytes(): Uint8Array {
    const n = this.uvarint();
    if (n > this.remaining) throw malformed(`string of ${n} bytes overruns the header`);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const b = this.bytes();
    return b.length === 0 ? "" : utf8Decoder.decode(b);
  }

  error(): WireError {
    const code = this.uvarint() % 2 ** 32; // Go keeps the low 32 bits
    const message = this.string();
    const details = this.bytes().slice();
    return { code, message, details };
  }

  /** Checks that nothing follows the last field. */
  end(): void {
    if (this.remaining !== 0) throw malformed(`${this.remaining} bytes after the header`);
  }
}

/** Parses a CALL payload. */
export function parseCallHeader(p: Uint8Array): CallHeader {
  const r = new HeaderReader(p);
  const selector = r.string();
  const codec = r.string();
  const timeoutNs = r.uvarint();
  if (r.atLeast2p63) throw malformed("timeout out of range");
  const n = r.uvarint();
  if (n > r.remaining / 2) throw malformed(`${n} metadata pairs overrun the header`); // each pair takes two bytes at least
  const metadata = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const k = r.string();
    metadata.set(k, r.string());
  }
  r.end();
  return { selector, codec, timeoutNs, metadata };
}

/** Parses a REPLY payload: the continue flag, and the error if the error flag is set. */
export function parseReplyHeader(p: Uint8Array): { cont: boolean; error?: QtalkError } {
  const r = new HeaderReader(p);
  const flags = r.byte();
  const known = ReplyFlag.Continue | ReplyFlag.Error | ReplyFlag.Refused;
  if ((flags & ~known) !== 0 || (flags & (ReplyFlag.Error | ReplyFlag.Refused)) === ReplyFlag.Refused) {
    throw malformed(`unknown reply flags 0x${flags.toString(16)}`);
  }
  if ((flags & ReplyFlag.Error) === 0) {
    r.end();
    return { cont: (flags & ReplyFlag.Continue) !== 0 };
  }
  const e = r.error();
  r.end();
  const error = new QtalkError(e.code, e.message, { details: e.details, refused: (flags & ReplyFlag.Refused) !== 0 });
  return { cont: (flags & ReplyFlag.Continue) !== 0, error };
}

/** Parses the payload of an ERROR or CANCEL frame. */
export function parseErrorPayload(p: Uint8Array): QtalkError {
  const r = new HeaderReader(p);
  const e = r.error();
  r.end();
  return new QtalkError(e.code, e.message, { details: e.details });
}

/** A REPLY frame carrying e. */
export function errorReply(e: QtalkError): Uint8Array {
  const w = new FrameWriter(32 + e.message.length * 3 + e.details.length);
  const f = w.beginFrame(FrameKind.Reply);
  w.replyHeader(false, e);
  w.endFrame(f);
  return w.finish();
}

/** An ERROR or CANCEL frame carrying e. */
export function errorFrame(kind: number, e: WireError): Uint8Array {
  const w = new FrameWriter(16 + e.message.length * 3 + e.details.length);
  const f = w.beginFrame(kind);
  w.error(e);
  w.endFrame(f);
  return w.finish();
}

/** One frame; its payload is never overwritten, so it may be kept. */
export interface Frame {
  kind: number;
  payload: Uint8Array;
}

/**
 * Reads frames from a channel. It reads until a frame is whole, checks a
 * frame's length against maxFrameSize before reading or allocating for its
 * payload, and keeps the bytes read past the last frame (takeBuffered), so
 * that a raw byte stream after the frames loses nothing. At most one read
 * of the channel is under way at a time; callers of fill share it.
 */
export class FrameReader {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;
  /** Whether buf is ours to append to past end (not a chunk the channel gave). */
  private owned = false;
  private reading: Promise<boolean> | undefined;
  private eof = false;

  constructor(
    private readonly channel: Channel,
    readonly maxFrameSize = defaultMaxFrameSize,
  ) {}

  /** Bytes read and not consumed. */
  get buffered(): number {
    return this.end - this.start;
  }

  /** The kind byte of the next frame, if any of it was read. */
  peekKind(): number | undefined {
    return this.end > this.start ? this.buf[this.start] : undefined;
  }

  /** The first n buffered bytes, if that many are buffered; they stay buffered. */
  peek(n: number): Uint8Array | undefined {
    return this.end - this.start >= n ? this.buf.subarray(this.start, this.start + n) : undefined;
  }

  /** Whether the channel reached its end. */
  get ended(): boolean {
    return this.eof;
  }

  /**
   * Reads the next chunk into the buffer, sharing a read under way;
   * resolves false at the end of the channel. want is what the caller
   * needs buffered, a hint for sizing the buffer.
   */
  fill(want = 0): Promise<boolean> {
    if (this.eof) return Promise.resolve(false);
    this.reading ??= this.readChunk(want);
    return this.reading;
  }

  private async readChunk(want: number): Promise<boolean> {
    try {
      const chunk = await this.channel.read();
      if (chunk === null) {
        this.eof = true;
        return false;
      }
      this.append(chunk, want);
      return true;
    } finally {
      this.reading = undefined;
    }
  }

  private append(chunk: Uint8Array, want: number): void {
    const have = this.end - this.start;
    if (have === 0) {
      // The chunk is the caller's to keep (Channel.read): frame it in place.
      this.buf = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.owned = false;
      return;
    }
    if (this.owned && this.end + chunk.length <= this.buf.length) {
      this.buf.set(chunk, this.end);
      this.end += chunk.length;
      return;
    }
    // A new buffer, never rewriting bytes handed out as payloads.
    const next = new Uint8Array(Math.max(have + chunk.length, want, 2 * have));
    next.set(this.buf.subarray(this.start, this.end));
    next.set(chunk, have);
    this.buf = next;
    this.start = 0;
    this.end = have + chunk.length;
    this.owned = true;
  }

  /**
   * Reads the next frame. Resolves null at the end of the channel at a
   * frame boundary; rejects with a malformed-frame error if the channel
   * ends inside a frame, with resource_exhausted for a frame over
   * maxFrameSize, and with the channel's error if a read fails.
   */
  async next(): Promise<Frame | null> {
    while (this.end - this.start < frameHeaderLength) {
      if (!(await this.fill(frameHeaderLength))) {
        if (this.end > this.start) throw malformed("stream ended inside a frame");
        return null;
      }
    }
    const b = this.buf;
    const s = this.start;
    const n = ((b[s + 1]! << 24) | (b[s + 2]! << 16) | (b[s + 3]! << 8) | b[s + 4]!) >>> 0;
    if (n > this.maxFrameSize) {
      throw new QtalkError(Code.ResourceExhausted, `frame of ${n} bytes exceeds the limit of ${this.maxFrameSize}`);
    }
    const total = frameHeaderLength + n;
    while (this.end - this.start < total) {
      if (!(await this.fill(total))) throw malformed("stream ended inside a frame");
    }
    const kind = this.buf[this.start]!;
    const payload = this.buf.subarray(this.start + frameHeaderLength, this.start + total);
    this.start += total;
    return { kind, payload };
  }

  /** Returns the bytes read past the last frame and forgets them. */
  takeBuffered(): Uint8Array | undefined {
    if (this.end === this.start) return undefined;
    const out = this.buf.subarray(this.start, this.end);
    this.start = this.end = 0;
    this.buf = new Uint8Array(0);
    this.owned = false;
    return out;
  }
}
