// Codecs encode the values of calls: arguments, replies and stream values.
// The call header names the codec, so a server answers in kind.

import { encode as cborgEncode, Token, Type, type EncodeOptions } from "cborg";
import { decodeCBOR } from "./cbor.js";
import { Code, QtalkError } from "./errors.js";

/** A codec of call values, named on the wire by name. */
export interface Codec {
  readonly name: string;
  /** Encodes v; throws if v cannot be encoded. */
  encode(v: unknown): Uint8Array;
  /** Decodes exactly one value; throws if b is not one. */
  decode(b: Uint8Array): unknown;
}

const nullToken = [new Token(Type.null, null)];

const cborEncodeOptions: EncodeOptions = {
  float64: true, // as Go sends float64s
  typeEncoders: { undefined: () => nullToken },
};

/**
 * CBOR (RFC 8949) as Go's fxamacker/cbor reads and writes it (spec/rpc.md
 * section 11): JavaScript numbers that are integers go as integers, others
 * as doubles; Uint8Array as byte strings; undefined as null; bigint as
 * integers; cborg's Tagged as tags. Decoding: see decodeCBOR.
 */
export const CBOR: Codec = {
  name: "cbor",
  encode: (v) => cborgEncode(v, cborEncodeOptions),
  decode: decodeCBOR,
};

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Uint8Array as standard base64, as Go's encoding/json sends []byte. */
function base64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

function jsonReplacer(_key: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return base64(v);
  if (typeof v === "bigint") {
    if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    throw new RangeError(`bigint ${v} does not fit a JSON number exactly`);
  }
  return v;
}

/**
 * JSON (RFC 8259) as Go's encoding/json: Uint8Array goes as a base64
 * string (Go's []byte), undefined as null, a bigint as a number when it is
 * a safe integer (else the encoding fails). Decoding gives what JSON.parse
 * gives (base64 strings stay strings).
 */
export const JSON_: Codec = {
  name: "json",
  encode: (v) => utf8.encode(JSON.stringify(v ?? null, jsonReplacer)),
  decode: (b) => JSON.parse(utf8Decoder.decode(b)),
};
export { JSON_ as JSON };

const codecs = new Map<string, Codec>([
  [CBOR.name, CBOR],
  [JSON_.name, JSON_],
]);

/** Makes c available to servers by its name, replacing a codec of that name. */
export function registerCodec(c: Codec): void {
  codecs.set(c.name, c);
}

/** The registered codec called name; an unimplemented QtalkError if there is none. */
export function codecByName(name: string): Codec {
  const c = codecs.get(name);
  if (c === undefined) throw new QtalkError(Code.Unimplemented, `unknown codec ${JSON.stringify(name)}`);
  return c;
}

/** Decodes a VALUE payload; a failure is an invalid_argument error naming the codec, with the cause kept. */
export function decodeValue(c: Codec, payload: Uint8Array): unknown {
  try {
    return c.decode(payload);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new QtalkError(Code.InvalidArgument, `decode ${c.name} value: ${why}`, { cause: err });
  }
}

/** Encodes a value; a failure is a QtalkError of code naming the codec, with the cause kept. */
export function encodeValue(c: Codec, v: unknown, code: Code = Code.InvalidArgument): Uint8Array {
  try {
    return c.encode(v);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new QtalkError(code, `encode ${c.name} value: ${why}`, { cause: err });
  }
}
