import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CBORDecodeError } from "./cbor.js";
import { CBOR } from "./codec.js";
import { QtalkError } from "./errors.js";
import { FrameReader, FrameWriter, parseCallHeader, parseErrorPayload, parseReplyHeader } from "./wire.js";
import { chunkChannel } from "./wire.test.js";

/** Valid inputs to mutate: a call header and CBOR values. */
function validCall(): Uint8Array {
  const w = new FrameWriter();
  w.callHeader("chat:send?x=1", "cbor", 1_500_000_000, { a: "b", k: "v" });
  return w.finish();
}

const cborSeeds = [
  CBOR.encode({ a: [1, -2, 1.5, "x", new Uint8Array([1, 2]), null, true], m: new Map([[1, 2]]), big: 2n ** 64n - 1n }),
  Uint8Array.of(0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0),
  Uint8Array.of(0x9f, 0x5f, 0x41, 1, 0xff, 0xbf, 0x61, 0x61, 0xf9, 0x7e, 0x00, 0xff, 0xff),
];

/** A byte array, or one of the seeds with bytes overwritten, inserted or cut. */
function mutated(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const mutation = fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("set", "insert", "cut")), { maxLength: 4 }));
  return fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    mutation.map(([seed, edits]) => {
      const b = [...seed];
      for (const [at, value, how] of edits) {
        const i = b.length === 0 ? 0 : at % b.length;
        if (how === "set") b[i] = value;
        else if (how === "insert") b.splice(i, 0, value);
        else b.length = i;
      }
      return Uint8Array.from(b);
    }),
  );
}

test("header decoders: only typed errors on random and mutated input", () => {
  fc.assert(
    fc.property(mutated([validCall(), Uint8Array.of(2, 5, 7, 110, 111, 32, 115, 117, 99, 104, 1, 42)]), (b) => {
      for (const parse of [parseCallHeader, parseReplyHeader, parseErrorPayload]) {
        try {
          parse(b);
        } catch (err) {
          assert.ok(err instanceof QtalkError, `${parse.name}: ${err}`);
        }
      }
    }),
    { numRuns: 5000, seed: 1 },
  );
});

test("CBOR decode: only CBORDecodeError on random and mutated input, bounded output", () => {
  fc.assert(
    fc.property(mutated(cborSeeds), (b) => {
      try {
        CBOR.decode(b);
      } catch (err) {
        assert.ok(err instanceof CBORDecodeError, String(err));
      }
    }),
    { numRuns: 10000, seed: 2 },
  );
});

test("a hostile declared length allocates nothing: a 2^32-element array in 9 bytes fails at once", () => {
  for (const head of [0x9b, 0xbb, 0x5b, 0x7b]) {
    const b = Uint8Array.of(head, 0, 0, 0, 1, 0, 0, 0, 0);
    assert.throws(() => CBOR.decode(b), /overruns the payload/);
  }
});

test("frame reader: random chunkings of random frames give the frames or typed errors", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 80 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1 }), async (bytes, sizes) => {
      const chunks: Uint8Array[] = [];
      for (let i = 0, k = 0; i < bytes.length; k++) {
        const n = sizes[k % sizes.length]!;
        chunks.push(bytes.slice(i, i + n));
        i += n;
      }
      const fr = new FrameReader(chunkChannel(chunks), 32);
      let consumed = 0;
      for (;;) {
        let f;
        try {
          f = await fr.next();
        } catch (err) {
          assert.ok(err instanceof QtalkError, String(err));
          return;
        }
        if (f === null) break;
        assert.deepEqual(f.payload, bytes.subarray(consumed + 5, consumed + 5 + f.payload.length));
        assert.equal(f.kind, bytes[consumed]);
        consumed += 5 + f.payload.length;
      }
      assert.equal(consumed, bytes.length);
    }),
    { numRuns: 2000, seed: 3 },
  );
});
