// Decoding replies with their number types kept. JavaScript numbers do not
// say whether a peer sent 3 or 3.0, but the check does: Go's checker
// decodes into typed fields and fails a float where it wants an integer
// (spec/check.md section 2). The checker decodes what it gets with these
// codecs, which give floats as Float.

import { decode, Token, Tokenizer as CBORTokenizer, Type } from "cborg";
import { Tokenizer as JSONTokenizer } from "cborg/json";
import { CBOR, JSON as JSONCodec, type Codec } from "../rpc/codec.js";

/** A number the peer sent as a float (CBOR major type 7, or JSON with a fraction or exponent). */
export class Float {
  constructor(readonly value: number) {}
  toString(): string {
    return `${this.value} (float)`;
  }
}

interface Tokens {
  done(): boolean;
  next(): Token;
  pos(): number;
}

/** A tag number no encoded tag has: marks the float token that follows it. */
const floatMark = -1;
const floatTags = { [floatMark]: (content: () => unknown) => new Float(content() as number) };

/** Passes tokens on, with each float preceded by a floatMark tag, so that decoding gives a Float. */
class FloatMarking implements Tokens {
  private held: Token | undefined;
  constructor(private readonly inner: Tokens) {}
  done(): boolean {
    return this.held === undefined && this.inner.done();
  }
  pos(): number {
    return this.inner.pos();
  }
  next(): Token {
    if (this.held !== undefined) {
      const t = this.held;
      this.held = undefined;
      return t;
    }
    const t = this.inner.next();
    if (t.type !== Type.float) return t;
    this.held = t;
    return new Token(Type.tag, floatMark, 0);
  }
}

/**
 * The codec base with decoding that keeps floats apart (as Float); it
 * encodes as base does and has its name, so calls are unchanged on the wire.
 */
function typed(base: Codec, tokenizer: (b: Uint8Array) => Tokens): Codec {
  return {
    name: base.name,
    encode: (v) => base.encode(v),
    decode: (b) => decode(b, { tags: floatTags, tokenizer: new FloatMarking(tokenizer(b)) }),
  };
}

/** CBOR, decoding floats as Float, maps with text keys as objects, byte strings as Uint8Array. */
export const typedCBOR: Codec = typed(CBOR, (b) => new CBORTokenizer(b, {}));

/** JSON, decoding numbers with a fraction or an exponent as Float. */
export const typedJSON: Codec = typed(JSONCodec, (b) => new JSONTokenizer(b, {}));
