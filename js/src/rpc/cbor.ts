// A CBOR decoder for the profile of spec/rpc.md section 11: what Go's
// fxamacker/cbor sends, read into plain JavaScript values, within limits a
// hostile payload cannot get around. (Encoding is cborg's.)

import { Tagged } from "cborg";

/** Nesting limit of arrays, maps and tags, as Go's decoder has it. */
export const maxCBORDepth = 32;
/** Elements of one array, or pairs of one map, as Go's decoder has it. */
export const maxCBORElements = 131_072;
/**
 * Arrays, maps and tags of one value in all. Go bounds only each array;
 * this bound keeps what one frame can make us allocate proportional to it.
 */
export const maxCBORContainers = 262_144;

/** A CBOR simple value other than false, true, null and undefined. */
export class CBORSimple {
  constructor(readonly value: number) {}
}

/** The error of a payload that is not one well-formed data item within the limits. */
export class CBORDecodeError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`cbor: ${message} at offset ${offset}`);
    this.name = "CBORDecodeError";
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const breakMark = Symbol("break");
const maxSafeHi = 2 ** 21; // a uint64 with a high word below this is a safe integer

/**
 * Decodes b, exactly one CBOR data item: integers beyond 2^53 as BigInt,
 * byte strings as Uint8Array (copies), maps with text keys only as plain
 * objects and other maps as Map, tags 2 and 3 as integers, tag 0 and 1 as
 * Date, 55799 dropped, other tags as cborg's Tagged, undefined as null.
 */
export function decodeCBOR(b: Uint8Array): unknown {
  if (b.length === 0) throw new CBORDecodeError("empty payload", 0);
  const d = new Decoder(b);
  const v = d.item(0);
  if (v === breakMark) throw new CBORDecodeError("break outside an indefinite-length item", 0);
  if (d.pos !== b.length) throw new CBORDecodeError(`${b.length - d.pos} bytes after the value`, d.pos);
  return v;
}

class Decoder {
  pos = 0;
  private containers = 0;
  private readonly view: DataView;

  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  private fail(message: string, at = this.pos): never {
    throw new CBORDecodeError(message, at);
  }

  private need(n: number): void {
    if (this.b.length - this.pos < n) this.fail("unexpected end of data");
  }

  /** Reads the argument of a head with additional information info: a number, or a bigint beyond 2^53. */
  private argument(info: number): number | bigint {
    if (info < 24) return info;
    switch (info) {
      case 24:
        this.need(1);
        return this.b[this.pos++]!;
      case 25: {
        this.need(2);
        const v = this.view.getUint16(this.pos);
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4);
        const v = this.view.getUint32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const hi = this.view.getUint32(this.pos);
        const lo = this.view.getUint32(this.pos + 4);
        this.pos += 8;
        return hi < maxSafeHi ? hi * 2 ** 32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
      }
    }
    return this.fail(`reserved additional information ${info}`, this.pos - 1);
  }

  /** A length or count: must fit what is left of the payload at minBytes per element. */
  private count(info: number, minBytes: number, what: string): number {
    const at = this.pos - 1;
    const n = this.argument(info);
    if (typeof n === "bigint" || n * minBytes > this.b.length - this.pos) {
      this.fail(`${what} of ${n} overruns the payload`, at);
    }
    return n;
  }

  private enter(depth: number): void {
    if (depth >= maxCBORDepth) this.fail(`nesting deeper than ${maxCBORDepth}`);
    if (++this.containers > maxCBORContainers) this.fail(`more than ${maxCBORContainers} arrays, maps and tags`);
  }

  item(depth: number): unknown {
    this.need(1);
    const at = this.pos;
    const ib = this.b[this.pos++]!;
    const major = ib >> 5;
    const info = ib & 0x1f;
    switch (major) {
      case 0:
        return this.argument(info);
      case 1: {
        const n = this.argument(info);
        if (typeof n === "number" && n < Number.MAX_SAFE_INTEGER) return -1 - n;
        return -1n - BigInt(n);
      }
      case 2:
        return info === 31 ? this.indefiniteString(2) : this.bytes(this.count(info, 1, "byte string")).slice();
      case 3:
        return info === 31 ? this.indefiniteString(3) : this.text(this.count(info, 1, "text string"), at);
      case 4:
        return this.array(info, depth);
      case 5:
        return this.map(info, depth);
      case 6:
        return this.tag(info, depth, at);
      default:
        return this.simple(info, at);
    }
  }

  private bytes(n: number): Uint8Array {
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private text(n: number, at: number): string {
    const b = this.bytes(n);
    // ASCII, the common case, without the cost of a TextDecoder call.
    if (n < 32) {
      let ascii = true;
      for (let i = 0; i < n; i++) if (b[i]! >= 0x80) ascii = false;
      if (ascii) return String.fromCharCode(...b);
    }
    try {
      return utf8.decode(b);
    } catch (err) {
      throw Object.assign(new CBORDecodeError("invalid UTF-8 in a text string", at), { cause: err });
    }
  }

  private indefiniteString(major: 2 | 3): Uint8Array | string {
    const start = this.pos - 1;
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      this.need(1);
      const ib = this.b[this.pos++]!;
      if (ib === 0xff) break;
      if (ib >> 5 !== major || (ib & 0x1f) === 31) this.fail("bad chunk in an indefinite-length string", this.pos - 1);
      const chunk = this.bytes(this.count(ib & 0x1f, 1, "string chunk"));
      chunks.push(chunk);
      total += chunk.length;
    }
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    if (major === 2) return out;
    try {
      return utf8.decode(out);
    } catch (err) {
      throw Object.assign(new CBORDecodeError("invalid UTF-8 in a text string", start), { cause: err });
    }
  }

  private array(info: number, depth: number): unknown[] {
    this.enter(depth);
    const out: unknown[] = [];
    const n = info === 31 ? Infinity : this.count(info, 1, "array");
    for (let i = 0; i < n; i++) {
      if (i >= maxCBORElements) this.fail(`array of more than ${maxCBORElements} elements`);
      const v = this.item(depth + 1);
      if (v === breakMark) {
        if (n !== Infinity) this.fail("break inside a definite-length array", this.pos - 1);
        break;
      }
      out.push(v);
    }
    return out;
  }

  private map(info: number, depth: number): Record<string, unknown> | Map<unknown, unknown> {
    this.enter(depth);
    const n = info === 31 ? Infinity : this.count(info, 2, "map");
    let obj: Record<string, unknown> | undefined = {};
    let map: Map<unknown, unknown> | undefined;
    for (let i = 0; i < n; i++) {
      if (i >= maxCBORElements) this.fail(`map of more than ${maxCBORElements} pairs`);
      const keyAt = this.pos;
      const key = this.item(depth + 1);
      if (key === breakMark) {
        if (n !== Infinity) this.fail("break inside a definite-length map", this.pos - 1);
        break;
      }
      if (Array.isArray(key) || key instanceof Map || (typeof key === "object" && key !== null && key.constructor === Object)) {
        this.fail("an array or a map as a map key", keyAt);
      }
      const value = this.item(depth + 1);
      if (value === breakMark) this.fail("break between a map key and its value", this.pos - 1);
      if (obj !== undefined && typeof key === "string") {
        // defineProperty: an assignment to "__proto__" would set the prototype.
        Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
        continue;
      }
      if (map === undefined) map = new Map(Object.entries(obj ?? {}));
      obj = undefined;
      map.set(key, value);
    }
    return map ?? obj!;
  }

  private tag(info: number, depth: number, at: number): unknown {
    const tag = this.argument(info);
    this.enter(depth);
    const content = this.item(depth + 1);
    if (content === breakMark) this.fail("break as tag content", this.pos - 1);
    switch (tag) {
      case 0:
        if (typeof content !== "string") this.fail("tag 0 content is not a text string", at);
        return new Date(content);
      case 1:
        if (typeof content !== "number" && typeof content !== "bigint") this.fail("tag 1 content is not a number", at);
        return new Date(Number(content) * 1000);
      case 2:
      case 3: {
        if (!(content instanceof Uint8Array)) this.fail(`tag ${tag} content is not a byte string`, at);
        let n = 0n;
        for (const byte of content) n = (n << 8n) | BigInt(byte);
        if (tag === 3) n = -1n - n;
        return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
      }
      case 55799:
        return content;
    }
    if (typeof tag === "bigint") this.fail(`tag number ${tag} beyond 2^53`, at);
    return new Tagged(tag, content);
  }

  private simple(info: number, at: number): unknown {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
      case 23:
        return null; // undefined decodes like null, as in Go
      case 24: {
        this.need(1);
        const v = this.b[this.pos++]!;
        if (v < 32) this.fail(`simple value ${v} in two bytes`, at);
        return new CBORSimple(v);
      }
      case 25: {
        this.need(2);
        const v = halfToNumber(this.view.getUint16(this.pos));
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4);
        const v = this.view.getFloat32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        return v;
      }
      case 31:
        return breakMark;
    }
    if (info < 20) return new CBORSimple(info);
    return this.fail(`reserved additional information ${info}`, at);
  }
}

/** The value of an IEEE 754 half-precision float. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}
