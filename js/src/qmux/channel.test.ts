import { test } from "node:test";
import assert from "node:assert/strict";
import { Channel, type ChannelHost } from "./channel.js";

const host: ChannelHost = {
  windowSize: 1 << 20,
  maxWindowSize: 1 << 20,
  growWindow: () => 0,
  returnGrowth() {},
  endError: undefined,
  queueControl() {},
  tryCopyData: () => false,
  markReady() {},
  queueGrant() {},
  release() {},
};

/** A chunk of n bytes counting up from first, in storage of its own. */
function chunk(n: number, first: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (first + i) & 0xff);
}

test("channel: payloads copied and payloads kept as views of their chunks are read in order", async () => {
  const c = new Channel(host, 0);
  c.state = "open";
  const a = chunk(4096, 0);
  const b = chunk(4096, 100);
  c.acceptData(10 + 4096 + 10 + 3000);
  c.receivePayload(a, 0, 10); // a small part of its chunk: copied, into storage with room left
  c.receivePayload(a, 0, 4096); // all of it: a view
  c.receivePayload(b, 5, 15); // copied, after the view
  c.receivePayload(b, 1000, 4000); // most of it: a view
  const reads: Uint8Array[] = [];
  while (c.bufferedBytes > 0) reads.push((await c.read())!);
  assert.deepEqual(reads, [a.subarray(0, 10), a, b.subarray(5, 15), b.subarray(1000, 4000)]);
  assert.deepEqual(
    reads.map((r) => r.buffer === a.buffer || r.buffer === b.buffer),
    [false, true, false, true],
    "small payloads are copied, large ones kept in place",
  );
});
