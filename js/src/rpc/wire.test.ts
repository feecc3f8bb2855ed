import { test } from "node:test";
import assert from "node:assert/strict";
import type { Channel } from "../mux.js";
import { Code, QtalkError, isMalformed } from "./errors.js";
import {
  FrameKind,
  FrameReader,
  FrameWriter,
  HeaderReader,
  encodeUvarint,
  errorFrame,
  errorReply,
  parseCallHeader,
  parseErrorPayload,
  parseReplyHeader,
} from "./wire.js";

/** Bytes from the hex of spec/rpc.md, where spaces group the fields. */
export function unhex(s: string): Uint8Array {
  const h = s.replace(/\s+/g, "");
  return Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
}

const specCall = `01 00 00 00 10  04 65 63 68 6f  04 63 62 6f 72  00  01  01 61 01 62
                  03 00 00 00 03  62 68 69`;
const specErrorReply = `02 00 00 00 0c  02  05  07 6e 6f 20 73 75 63 68  01 2a`;

test("the CALL and VALUE frames of spec/rpc.md section 6, byte for byte", () => {
  const w = new FrameWriter(8); // small, so that the writer grows
  const c = w.beginFrame(FrameKind.Call);
  w.callHeader("echo", "cbor", 0, { a: "b" });
  w.endFrame(c);
  const v = w.beginFrame(FrameKind.Value);
  w.raw(unhex("62 68 69"));
  w.endFrame(v);
  assert.deepEqual(w.finish(), unhex(specCall));
  const h = parseCallHeader(unhex(specCall).subarray(5, 21));
  assert.equal(h.selector, "echo");
  assert.equal(h.codec, "cbor");
  assert.equal(h.timeoutNs, 0);
  assert.deepEqual([...h.metadata], [["a", "b"]]);
});

test("the error reply of spec/rpc.md section 6, both ways", () => {
  const e = new QtalkError(Code.NotFound, "no such", { details: Uint8Array.of(0x2a) });
  assert.deepEqual(errorReply(e), unhex(specErrorReply));
  const { cont, error } = parseReplyHeader(unhex(specErrorReply).subarray(5));
  assert.equal(cont, false);
  assert.equal(error?.code, Code.NotFound);
  assert.equal(error?.message, "no such");
  assert.deepEqual(error?.details, Uint8Array.of(0x2a));
  assert.equal(error?.refused, false);
  assert.equal(String(error), "rpc: not_found: no such");
});

test("the timeout and CANCEL frame of spec/rpc.md section 6", () => {
  assert.deepEqual(encodeUvarint(1_500_000_000), unhex("80 de a0 cb 05"));
  const cancel = errorFrame(FrameKind.Cancel, { code: Code.Canceled, message: "context canceled", details: new Uint8Array() });
  const want = new Uint8Array([6, 0, 0, 0, 0x13, 1, 0x10, ...new TextEncoder().encode("context canceled"), 0]);
  assert.deepEqual(cancel, want);
  assert.equal(parseErrorPayload(cancel.subarray(5)).message, "context canceled");
});

test("metadata of 128 pairs and more take a longer count", () => {
  const md = new Map(Array.from({ length: 200 }, (_, i) => [`k${i}`, `v${i}`] as [string, string]));
  const w = new FrameWriter();
  w.callHeader("s", "json", 7, md);
  const h = parseCallHeader(w.finish());
  assert.deepEqual(h.metadata, md);
  assert.equal(h.timeoutNs, 7);
  assert.equal(h.codec, "json");
});

test("strings of every UTF-8 width, around the lengths where the length prefix grows", () => {
  for (const s of ["", "é", "€".repeat(42), "€".repeat(43), "𝄞".repeat(40), "x".repeat(127), "x".repeat(128)]) {
    const w = new FrameWriter(4);
    w.string(s);
    w.string("after");
    const r = new HeaderReader(w.finish());
    assert.equal(r.string(), s);
    assert.equal(r.string(), "after");
    r.end();
  }
});

test("uvarints: edges, overflow, truncation, 10 bytes at most", () => {
  const read = (hex: string) => new HeaderReader(unhex(hex)).uvarint();
  assert.equal(read("00"), 0);
  assert.equal(read("7f"), 127);
  assert.equal(read("80 01"), 128);
  assert.equal(read("80 00"), 0); // not the shortest form, as Go takes it
  assert.equal(read("ff ff ff ff 0f"), 2 ** 32 - 1);
  assert.equal(read("ff ff ff ff ff ff ff 0f"), 2 ** 53 - 1);
  for (const n of [0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32, 2 ** 53 - 1]) {
    assert.equal(new HeaderReader(encodeUvarint(n)).uvarint(), n);
  }
  const r = new HeaderReader(unhex("ff ff ff ff ff ff ff ff ff 01"));
  assert.equal(r.uvarint(), 2 ** 64 - 1);
  assert.equal(r.atLeast2p63, true);
  const below = new HeaderReader(unhex("ff ff ff ff ff ff ff ff 7f"));
  below.uvarint();
  assert.equal(below.atLeast2p63, false);
  for (const bad of ["ff ff ff ff ff ff ff ff ff 02", "ff ff ff ff ff ff ff ff ff ff 01", "80", ""]) {
    assert.throws(() => read(bad), (err) => isMalformed(err), bad);
  }
});

test("malformed headers are invalid_argument errors that say why", () => {
  const call = (hex: string) => () => parseCallHeader(unhex(hex));
  const cases: [() => unknown, RegExp][] = [
    [call("7f 73"), /overruns/],
    [call("04 65 63 68 6f"), /bad integer|truncated/],
    [call("01 73 04 63 62 6f 72 00 00 00"), /1 bytes after the header/],
    [call("01 73 04 63 62 6f 72 ff ff ff ff ff ff ff ff ff 01 00"), /timeout out of range/],
    [call("01 73 04 63 62 6f 72 00 80 80 80 80 80 80 80 80 40"), /metadata pairs overrun/],
    [call("01 73 04 63 62 6f 72 00 03 01 61 01 62"), /metadata pairs overrun/],
    [call("01 73 04 63 62 6f 72 00 02 01 61 01 62"), /truncated/],
    [() => parseReplyHeader(unhex("08")), /unknown reply flags 0x8/],
    [() => parseReplyHeader(unhex("04")), /unknown reply flags 0x4/],
    [() => parseReplyHeader(unhex("")), /header too short/],
    [() => parseReplyHeader(unhex("00 00")), /after the header/],
    [() => parseErrorPayload(unhex("05 07 6e")), /overruns/],
  ];
  for (const [f, message] of cases) {
    assert.throws(f, (err: unknown) => {
      assert.ok(isMalformed(err), String(err));
      assert.match((err as Error).message, /^rpc: malformed frame: /);
      assert.match((err as Error).message, message);
      return true;
    });
  }
});

test("a refused reply keeps its flag", () => {
  const e = new QtalkError(Code.Unavailable, "going away", { refused: true });
  const { error } = parseReplyHeader(errorReply(e).subarray(5));
  assert.equal(error?.refused, true);
  assert.equal(error?.code, Code.Unavailable);
});

/** A channel that yields the given chunks, then the end, and records nothing written. */
export function chunkChannel(chunks: Uint8Array[]): Channel & { reads: number } {
  const queue = [...chunks];
  const ch = {
    id: 1,
    reads: 0,
    async read() {
      ch.reads++;
      return queue.shift() ?? null;
    },
    write: async () => {},
    closeWrite: async () => {},
    close: async () => {},
    readable: new ReadableStream<Uint8Array>(),
    writable: new WritableStream<Uint8Array>(),
    async *[Symbol.asyncIterator]() {},
  };
  return ch;
}

test("the frame reader reads until a frame is whole, one byte at a time, and keeps what follows", async () => {
  const frames = unhex(specCall);
  const trailing = Uint8Array.of(9, 8, 7);
  const all = new Uint8Array([...frames, ...trailing]);
  for (const size of [1, 2, 3, 5, 7, 21, all.length]) {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < all.length; i += size) chunks.push(all.slice(i, i + size));
    const fr = new FrameReader(chunkChannel(chunks));
    const call = await fr.next();
    assert.equal(call?.kind, FrameKind.Call);
    assert.equal(call?.payload.length, 16);
    const value = await fr.next();
    assert.equal(value?.kind, FrameKind.Value);
    assert.deepEqual(value?.payload, unhex("62 68 69"));
    // The payload of the first frame is intact after the second was read.
    assert.deepEqual(call?.payload, frames.subarray(5, 21));
    // Whatever came after the frames is handed out first.
    let rest = fr.takeBuffered() ?? new Uint8Array();
    while (rest.length < trailing.length && (await fr.fill())) rest = new Uint8Array([...rest, ...fr.takeBuffered()!]);
    assert.deepEqual(rest, trailing, `chunks of ${size}`);
  }
});

test("the frame reader: end at a boundary, end inside a frame, a frame over the limit", async () => {
  assert.equal(await new FrameReader(chunkChannel([])).next(), null);
  await assert.rejects(new FrameReader(chunkChannel([Uint8Array.of(3, 0, 0)])).next(), (err) => isMalformed(err));
  await assert.rejects(new FrameReader(chunkChannel([Uint8Array.of(3, 0, 0, 0, 9, 1)])).next(), /stream ended inside a frame/);
  // A declared length of 4 GiB: refused from the header, before any payload is read.
  const ch = chunkChannel([Uint8Array.of(3, 0xff, 0xff, 0xff, 0xff), new Uint8Array(10)]);
  await assert.rejects(new FrameReader(ch, 1024).next(), (err: unknown) => {
    assert.ok(err instanceof QtalkError);
    assert.equal(err.code, Code.ResourceExhausted);
    assert.match(err.message, /frame of 4294967295 bytes exceeds the limit of 1024/);
    return true;
  });
  assert.equal(ch.reads, 1);
});
