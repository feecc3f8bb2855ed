import { test } from "node:test";
import assert from "node:assert/strict";
import { pattern, patternSeed } from "./pattern.js";

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
