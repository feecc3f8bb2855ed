import { test } from "node:test";
import assert from "node:assert/strict";
import { Tagged } from "cborg";
import { CBORDecodeError, CBORSimple, maxCBORDepth, maxCBORElements } from "./cbor.js";
import { CBOR, JSON as JSONCodec, codecByName, decodeValue, registerCodec } from "./codec.js";
import { Code, QtalkError } from "./errors.js";
import { unhex } from "./wire.test.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("CBOR encodes as Go reads: integers as integers, other numbers as doubles, undefined as null", () => {
  const cases: [unknown, string][] = [
    [0, "00"],
    [23, "17"],
    [24, "1818"],
    [-1, "20"],
    [-500, "3901f3"],
    [2 ** 53 - 1, "1b001fffffffffffff"],
    [0.125, "fb3fc0000000000000"], // a double, as Go sends float64
    [1.5, "fb3ff8000000000000"],
    [undefined, "f6"],
    [null, "f6"],
    [[1, undefined], "8201f6"],
    [true, "f5"],
    ["hi", "626869"],
    [Uint8Array.of(1, 2), "420102"],
    [2n ** 64n - 1n, "1bffffffffffffffff"],
    [-(2n ** 64n), "3bffffffffffffffff"],
    [{ a: 1 }, "a1616101"],
    [new Map([[1, "x"]]), "a1016178"],
    [new Tagged(1234, "x"), "d904d26178"],
  ];
  for (const [v, want] of cases) assert.equal(hex(CBOR.encode(v)), want, String(v));
});

test("CBOR decodes what Go sends: all float widths, the full integer range, bignum tags, simple values", () => {
  const cases: [string, unknown][] = [
    ["f97e00", NaN],
    ["f97c00", Infinity],
    ["f9fc00", -Infinity],
    ["f93e00", 1.5],
    ["f90001", 2 ** -24], // the smallest subnormal half
    ["fa3fc00000", 1.5],
    ["fb3fc0000000000000", 0.125],
    ["fb8000000000000000", -0],
    ["1818", 24],
    ["1801", 1], // not the shortest head
    ["1b001fffffffffffff", 2 ** 53 - 1],
    ["1b0020000000000000", 2n ** 53n],
    ["1bffffffffffffffff", 2n ** 64n - 1n],
    ["3bffffffffffffffff", -(2n ** 64n)],
    ["3b001ffffffffffffe", -(2 ** 53 - 1)],
    ["c249010000000000000000", 2n ** 64n],
    ["c34100", -1],
    ["c24101", 1],
    ["d9d9f7 01", 1], // self-described CBOR: dropped
    ["f7", null],
    ["f0", new CBORSimple(16)],
    ["f8ff", new CBORSimple(255)],
    ["4401020304", Uint8Array.of(1, 2, 3, 4)],
    ["5f42010243030405ff", Uint8Array.of(1, 2, 3, 4, 5)],
    ["7f6268696161ff", "hia"],
    ["9f0102ff", [1, 2]],
    ["bf616101ff", { a: 1 }],
    ["a2616101616202", { a: 1, b: 2 }],
    ["a2616101616102", { a: 2 }], // duplicates: the last wins, as Go's generic maps
    ["a2016178616102", new Map<unknown, unknown>([[1, "x"], ["a", 2]])],
    ["a1f56178", new Map([[true, "x"]])],
    ["d904d26178", new Tagged(1234, "x")],
    ["c11a5f5e1000", new Date(1600000000 * 1000)],
  ];
  for (const [h, want] of cases) assert.deepEqual(CBOR.decode(unhex(h)), want, h);
});

test("a map key named __proto__ is an own property, not the prototype", () => {
  const v = CBOR.decode(unhex("a1695f5f70726f746f5f5fa0")) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v), ["__proto__"]);
});

test("CBOR round trips", () => {
  const v = { s: "é€𝄞", n: [0, -1, 1.25, 2 ** 40, -(2 ** 40)], b: new Uint8Array(300).fill(7), m: new Map([[1, [true, null]]]), big: 2n ** 63n };
  assert.deepEqual(CBOR.decode(CBOR.encode(v)), v);
});

test("CBOR refuses malformed and oversized input with CBORDecodeError", () => {
  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["0000", /bytes after the value/],
    ["ff", /break outside/],
    ["1c", /reserved/],
    ["f800", /simple value 0 in two bytes/],
    ["62ffff", /invalid UTF-8/],
    ["5f6161ff", /bad chunk/],
    ["9bffffffffffffffff", /overruns/],
    ["9a7fffffff00", /overruns/],
    ["ba7fffffff0000", /overruns/],
    ["5a7fffffff", /overruns/],
    ["a18001", /array or a map as a map key/],
    ["c001", /tag 0 content/],
    ["c261", /end of data|overruns/],
    ["c201", /tag 2 content/],
    ["8301ff02", /break inside/],
    ["9f", /end of data/],
  ];
  for (const [h, message] of bad) {
    assert.throws(() => CBOR.decode(unhex(h)), (err: unknown) => err instanceof CBORDecodeError && message.test(err.message), h);
  }
  const deep = new Uint8Array(maxCBORDepth + 1).fill(0x81);
  assert.throws(() => CBOR.decode(new Uint8Array([...deep, 0])), /nesting deeper than 32/);
  assert.deepEqual(CBOR.decode(new Uint8Array([...deep.subarray(1), 0])) !== undefined, true);
  const wide = new Uint8Array([0x9f, ...new Uint8Array(maxCBORElements + 1), 0xff]);
  assert.throws(() => CBOR.decode(wide), /more than 131072 elements/);
});

test("JSON as Go's encoding/json: bytes as base64, undefined as null", () => {
  assert.equal(new TextDecoder().decode(JSONCodec.encode({ b: Uint8Array.of(0, 1, 2, 254, 255), n: 1n, u: undefined })), '{"b":"AAEC/v8=","n":1}');
  assert.equal(new TextDecoder().decode(JSONCodec.encode(undefined)), "null");
  assert.deepEqual(JSONCodec.decode(new TextEncoder().encode('{"a":[1,"x"]}')), { a: [1, "x"] });
  assert.throws(() => JSONCodec.encode(2n ** 64n), RangeError);
});

test("codecs by name; a value that does not decode is invalid_argument naming the codec", () => {
  assert.equal(codecByName("cbor"), CBOR);
  assert.equal(codecByName("json"), JSONCodec);
  assert.throws(() => codecByName("xml"), (err: unknown) => err instanceof QtalkError && err.code === Code.Unimplemented);
  const upper = { name: "upper", encode: (v: unknown) => new TextEncoder().encode(String(v).toUpperCase()), decode: (b: Uint8Array) => new TextDecoder().decode(b) };
  registerCodec(upper);
  assert.equal(codecByName("upper"), upper);
  assert.throws(() => decodeValue(CBOR, unhex("ff")), (err: unknown) => {
    assert.ok(err instanceof QtalkError);
    assert.equal(err.code, Code.InvalidArgument);
    assert.match(err.message, /^decode cbor value: cbor: /);
    assert.ok(err.cause instanceof CBORDecodeError);
    return true;
  });
});
