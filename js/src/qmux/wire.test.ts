import { test } from "node:test";
import assert from "node:assert/strict";
import {
  encodeFrame,
  frame,
  headerLength,
  msgChannelClose,
  msgChannelData,
  msgChannelEOF,
  msgChannelOpen,
  msgChannelOpenConfirm,
  msgChannelOpenFailure,
  msgChannelWindowAdjust,
  parseFrame,
} from "./wire.js";

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g)!, (b) => parseInt(b, 16));
}

// The examples of spec/qmux.md section 2, byte for byte.
const examples = [
  { name: "OPEN", hex: "64 00000005 00040000 00008000", f: frame({ type: msgChannelOpen, sender: 5, window: 262144, maxPacket: 32768 }) },
  {
    name: "OPEN_CONFIRMATION",
    hex: "65 00000005 00000009 00040000 00008000",
    f: frame({ type: msgChannelOpenConfirm, recipient: 5, sender: 9, window: 262144, maxPacket: 32768 }),
  },
  { name: "DATA header", hex: "68 00000009 00000002", f: frame({ type: msgChannelData, recipient: 9, length: 2 }) },
  { name: "WINDOW_ADJUST", hex: "67 00000009 00000800", f: frame({ type: msgChannelWindowAdjust, recipient: 9, window: 2048 }) },
  { name: "EOF", hex: "69 00000009", f: frame({ type: msgChannelEOF, recipient: 9 }) },
  { name: "CLOSE", hex: "6a 00000009", f: frame({ type: msgChannelClose, recipient: 9 }) },
  { name: "OPEN_FAILURE", hex: "66 00000005", f: frame({ type: msgChannelOpenFailure, recipient: 5 }) },
];

for (const ex of examples) {
  test(`wire: ${ex.name} matches spec section 2`, () => {
    const want = hex(ex.hex);
    assert.deepEqual(encodeFrame(ex.f), want);
    assert.equal(headerLength(want[0]!), want.length);
    assert.deepEqual(parseFrame(want), ex.f);
  });
}

test("wire: DATA example with its payload", () => {
  const header = encodeFrame(frame({ type: msgChannelData, recipient: 9, length: 2 }));
  const msg = new Uint8Array([...header, ...new TextEncoder().encode("hi")]);
  assert.deepEqual(msg, hex("68 00000009 00000002 6869"));
});

test("wire: uint32 fields round-trip at their extremes", () => {
  const f = frame({ type: msgChannelOpenConfirm, recipient: 0xffffffff, sender: 0x80000000, window: 0x7fffffff, maxPacket: 1 });
  assert.deepEqual(parseFrame(encodeFrame(f)), f);
});

test("wire: unknown types have no header length", () => {
  for (const t of [0, 1, 90, 94, 99, 107, 200, 255]) assert.equal(headerLength(t), 0);
  for (let t = 100; t <= 106; t++) assert.ok(headerLength(t) >= 5);
});
