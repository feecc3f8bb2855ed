import { test } from "node:test";
import assert from "node:assert/strict";
import { feedReadable } from "./streams.js";

const guard = { timeout: 10_000 };

/** A source that records its pauses and resumes. */
function recordingSource() {
  const calls: string[] = [];
  return { calls, source: { pause: () => calls.push("pause"), resume: () => calls.push("resume"), cancel: () => calls.push("cancel") } };
}

function receiver() {
  const got: number[][] = [];
  const ends: (Error | undefined)[] = [];
  return { got, ends, r: { data: (c: Uint8Array) => got.push([...c]), end: (err?: Error) => ends.push(err) } };
}

test("feed: a diverted feed hands over what was pushed before, then later pushes and the end, in order", guard, () => {
  const { calls, source } = recordingSource();
  const feed = feedReadable(source, 4);
  feed.push(Uint8Array.of(1, 2));
  feed.push(Uint8Array.of(3, 4)); // fills the mark: the source pauses
  assert.deepEqual(calls, ["pause"]);
  assert.equal(feed.queuedBytes, 4);
  const { got, ends, r } = receiver();
  feed.divert(r);
  assert.deepEqual(calls, ["pause", "resume"]);
  feed.push(Uint8Array.of(5));
  feed.end();
  feed.push(Uint8Array.of(6)); // after the end: ignored
  assert.deepEqual(got, [[1, 2], [3, 4], [5]]);
  assert.deepEqual(ends, [undefined]);
  assert.equal(feed.queuedBytes, 0);
  assert.throws(() => feed.readable, TypeError);
});

test("feed: an end or failure before the divert reaches the receiver after the bytes", guard, () => {
  const feed = feedReadable(recordingSource().source, 1024);
  feed.push(Uint8Array.of(1));
  feed.end();
  const a = receiver();
  feed.divert(a.r);
  assert.deepEqual(a.got, [[1]]);
  assert.deepEqual(a.ends, [undefined]);

  const failed = feedReadable(recordingSource().source, 1024);
  failed.push(Uint8Array.of(1));
  const err = new Error("reset");
  failed.fail(err);
  const b = receiver();
  failed.divert(b.r);
  assert.deepEqual(b.got, []); // dropped, as a failed stream drops its queue
  assert.deepEqual(b.ends, [err]);
});

test("feed: the stream, made late, reads what was pushed before it and resumes the source", guard, async () => {
  const { calls, source } = recordingSource();
  const feed = feedReadable(source, 2);
  feed.push(Uint8Array.of(1, 2));
  assert.deepEqual(calls, ["pause"]);
  const reader = feed.readable.getReader();
  assert.deepEqual((await reader.read()).value, Uint8Array.of(1, 2));
  assert.deepEqual(calls, ["pause", "resume"]);
  feed.push(Uint8Array.of(3));
  feed.end();
  assert.deepEqual((await reader.read()).value, Uint8Array.of(3));
  assert.ok((await reader.read()).done);
  assert.throws(() => feed.divert(receiver().r), TypeError);
});
