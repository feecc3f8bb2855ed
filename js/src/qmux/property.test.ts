// Random and mutated message streams, split at random chunk boundaries,
// fed to a real Session: it keeps working or ends with a QtalkMuxError;
// never an exception, an unhandled rejection, a hang, or a channel
// buffering more than its window.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { QtalkMuxError } from "../errors.js";
import { concat, encode, RawPeer } from "./rawpeer.test.util.js";
import type { Channel } from "./channel.js";
import { frame } from "./wire.js";

// Small limits, so that random streams reach them.
const config = { windowSize: 2048, maxWindowSize: 8192, maxPacketSize: 1024, acceptBacklog: 2, maxChannels: 6 };

// Numbers the session holds (it numbers its own two opens 0 and 1, and the
// peer's opens of the stream's prefix 2 and 3) and a few beyond.
const channelNumber = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(2, 3) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 6 }) });
const prefix = encode(
  frame({ type: 100, sender: 2, window: 4096, maxPacket: 1024 }),
  frame({ type: 100, sender: 3, window: 4096, maxPacket: 1024 }),
);
const smallUint32 = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.constantFrom(0xffffffff, 0x80000000));

/**
 * One message, mostly well formed with plausible fields (weighted towards
 * opens the session accepts and DATA, so that streams get past the first
 * few messages and reach the window), sometimes garbage.
 */
const message = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({ sender: channelNumber, window: smallUint32, maxPacket: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2048 })) })
      .map((f) => encode(frame({ type: 100, ...f }))),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ recipient: channelNumber, sender: channelNumber, window: smallUint32, maxPacket: fc.integer({ min: 0, max: 2048 }) })
      .map((f) => encode(frame({ type: 101, ...f }))),
  },
  { weight: 1, arbitrary: channelNumber.map((recipient) => encode(frame({ type: 102, recipient }))) },
  { weight: 1, arbitrary: fc.record({ recipient: channelNumber, window: smallUint32 }).map((f) => encode(frame({ type: 103, ...f }))) },
  {
    weight: 8,
    arbitrary: fc
      .record({ recipient: channelNumber, length: fc.oneof(fc.integer({ min: 0, max: 1100 }), fc.constant(1024)) })
      .map((f) => encode(frame({ type: 104, ...f }))),
  },
  { weight: 1, arbitrary: channelNumber.map((recipient) => encode(frame({ type: 105, recipient }))) },
  { weight: 1, arbitrary: channelNumber.map((recipient) => encode(frame({ type: 106, recipient }))) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 24 }) },
);

/** A stream of messages, possibly with some bytes overwritten. */
const stream = fc
  .record({
    messages: fc.array(message, { maxLength: 60 }),
    mutations: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 2 }),
    cuts: fc.array(fc.nat(), { maxLength: 20 }),
  })
  .map(({ messages, mutations, cuts }) => {
    const bytes = concat(prefix, ...messages);
    for (const m of mutations) if (bytes.length > 0) bytes[m.at % bytes.length] = m.value;
    const points = [...new Set(cuts.map((c) => (bytes.length > 0 ? c % bytes.length : 0)))].sort((a, b) => a - b);
    const chunks: Uint8Array[] = [];
    let from = 0;
    for (const p of [...points, bytes.length]) {
      if (p > from) chunks.push(bytes.subarray(from, p));
      from = Math.max(from, p);
    }
    return chunks;
  });

test("random and mutated streams never break the session's rules", { timeout: 120_000 }, async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    await fc.assert(
      fc.asyncProperty(stream, fc.boolean(), async (chunks, readChannels) => {
        const p = new RawPeer(config);
        const window = p.session.config.maxWindowSize;
        const accepted: Channel[] = [];
        const checkLimits = () => {
          assert.ok(p.session.channelCount <= config.maxChannels);
          for (const ch of accepted) assert.ok(ch.bufferedBytes <= window, `channel ${ch.id} buffers ${ch.bufferedBytes} bytes`);
        };
        // The application: opens two channels, accepts every channel and
        // reads them or leaves them unread.
        const opens = [p.session.open(), p.session.open()].map((o) => o.then(() => {}, () => {}));
        const app = (async () => {
          for (;;) {
            const ch = await p.session.accept().catch(() => null);
            if (ch === null) return;
            accepted.push(ch);
            if (readChannels) void (async () => { while ((await ch.read().catch(() => null)) !== null); })();
          }
        })();
        const output = p.frames.drain().catch(() => {});
        for (const chunk of chunks) {
          const ok = await p.write(chunk).then(() => true, () => false);
          checkLimits();
          if (!ok) break;
        }
        await p.closeWrite().catch(() => {});
        const reason = await p.session.done;
        assert.ok(reason === undefined || reason instanceof QtalkMuxError, `done = ${reason}`);
        checkLimits();
        await Promise.all([app, output, ...opens]);
        await p.close();
      }),
      { seed: 20261204, numRuns: 300 },
    );
    // Let rejections of the last run surface before checking.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});
