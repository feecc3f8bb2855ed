import { test } from "node:test";
import assert from "node:assert/strict";
import { equalBytes, ExcessBytesError, firstDifference, pattern, patternSeed, readAll } from "./bytes.js";

test("the pattern starts with the bytes spec/check.md lists", () => {
  const first = [0x63, 0x7a, 0xa0, 0x7e, 0xe1, 0xea, 0xf2, 0x3d, 0xc7, 0x39, 0x6d, 0x0d, 0xa6, 0x78, 0x16, 0x80];
  assert.deepEqual(Array.from(pattern(16)), first);
  assert.equal(patternSeed, 0x92d68ca2);
});

test("the pattern is a prefix of any longer one, and another seed gives other bytes", () => {
  assert.deepEqual(pattern(1000).subarray(0, 10), pattern(10));
  assert.notDeepEqual(pattern(16, 7), pattern(16));
  assert.throws(() => pattern(1, 0), RangeError);
});

/** A source that yields chunks, then the end. */
function chunks(...parts: number[][]): { read(): Promise<Uint8Array | null> } {
  const queue = parts.map((p) => Uint8Array.from(p));
  return { read: async () => queue.shift() ?? null };
}

test("readAll joins the chunks up to the end, and refuses more than its limit", async () => {
  assert.deepEqual(Array.from(await readAll(chunks([1, 2], [], [3]), 3)), [1, 2, 3]);
  assert.deepEqual(Array.from(await readAll(chunks([1]), 3)), [1]);
  await assert.rejects(readAll(chunks([1, 2], [3, 4]), 3), ExcessBytesError);
});

test("firstDifference and equalBytes", () => {
  const a = Uint8Array.of(1, 2, 3);
  assert.equal(firstDifference(a, Uint8Array.of(1, 9, 3)), 1);
  assert.equal(firstDifference(a, Uint8Array.of(1, 2)), -1);
  assert.equal(equalBytes(a, Uint8Array.of(1, 2)), false);
  assert.equal(equalBytes(a, Uint8Array.of(1, 2, 3)), true);
});
