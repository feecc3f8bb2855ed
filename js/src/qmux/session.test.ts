import { test } from "node:test";
import assert from "node:assert/strict";
import { isMuxError, QtalkMuxError } from "../errors.js";
import { memoryPair } from "../transport/memory.js";
import { Session } from "./session.js";
import type { Channel } from "./channel.js";
import { defaultMaxWindowSize, defaultWindowSize, type Config } from "./config.js";
import { guard, pattern, readAll, sha256 } from "../testing.test.util.js";


function pair(config?: Partial<Config>): [Session, Session] {
  const [a, b] = memoryPair();
  return [new Session(a, config), new Session(b, config)];
}

async function openPair(a: Session, b: Session): Promise<[Channel, Channel]> {
  const accepted = b.accept();
  const opened = await a.open();
  return [opened, await accepted];
}




async function closeAll(...sessions: Session[]): Promise<void> {
  await Promise.all(sessions.map((s) => s.close()));
}

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

test("open, accept, echo and close", guard, async () => {
  const [a, b] = pair();
  const [ca, cb] = await openPair(a, b);
  await ca.write(text("hello"));
  assert.equal(str(await cb.read()), "hello");
  await cb.write(text("world"));
  assert.equal(str(await ca.read()), "world");
  await ca.close();
  assert.equal(await cb.read(), null, "the peer's CLOSE ends the stream");
  await cb.close();
  await closeAll(a, b);
  assert.equal(await a.done, undefined);
  assert.equal(await b.done, undefined, "the peer's clean end is no error");
});

test("100 concurrent channels each way carry their own data", guard, async () => {
  const [a, b] = pair();
  const serve = async (s: Session) => {
    const served: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      const ch = await s.accept();
      // Echo everything back, then close.
      served.push(
        (async () => {
          for await (const chunk of ch) await ch.write(chunk);
          await ch.closeWrite();
        })(),
      );
    }
    await Promise.all(served);
  };
  const client = async (s: Session, side: number) => {
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const data = pattern(1000 + i * 997, side * 1000 + i);
        const ch = await s.open();
        const [, echoed] = await Promise.all([ch.write(data).then(() => ch.closeWrite()), readAll(ch)]);
        assert.equal(await sha256(echoed), await sha256(data), `channel ${side}/${i}`);
        await ch.close();
      }),
    );
  };
  await Promise.all([serve(a), serve(b), client(a, 1), client(b, 2)]);
  await closeAll(a, b);
});

test("8 MB in one write arrives intact", guard, async () => {
  const [a, b] = pair();
  const [ca, cb] = await openPair(a, b);
  const data = pattern(8 << 20, 8);
  const sent = ca.write(data).then(() => ca.closeWrite());
  const got = await readAll(cb);
  await sent;
  assert.equal(got.length, data.length);
  assert.equal(await sha256(got), await sha256(data));
  await closeAll(a, b);
});

test("half-close: each direction ends on its own", guard, async () => {
  const [a, b] = pair();
  const [ca, cb] = await openPair(a, b);
  await ca.write(text("request"));
  await ca.closeWrite();
  await assert.rejects(ca.write(text("more")), (e: unknown) => isMuxError(e, "channel_closed"));
  assert.equal(str(await readAll(cb)), "request");
  // b can still send after a's EOF, and a still reads.
  await cb.write(text("reply 1, "));
  await cb.write(text("reply 2"));
  await cb.closeWrite();
  assert.equal(str(await readAll(ca)), "reply 1, reply 2");
  await closeAll(a, b);
});

test("bytes that arrived before EOF and CLOSE are still read", guard, async () => {
  const [a, b] = pair();
  const [ca, cb] = await openPair(a, b);
  await ca.write(text("one"));
  await ca.write(pattern(100_000, 3));
  await ca.close();
  // The peer's CLOSE has arrived once a new channel round-trips after it.
  await openPair(a, b);
  const got = await readAll(cb);
  assert.equal(got.length, 3 + 100_000);
  assert.equal(str(got.subarray(0, 3)), "one");
  await closeAll(a, b);
});

test("closeWrite after queued writes sends EOF after them", guard, async () => {
  const [a, b] = pair({ windowSize: 4096, maxPacketSize: 1024 });
  const [ca, cb] = await openPair(a, b);
  const big = pattern(50_000, 5);
  // Not awaited: the EOF must wait for the write, which waits for window.
  const wrote = ca.write(big);
  const eof = ca.closeWrite();
  const got = await readAll(cb);
  await Promise.all([wrote, eof]);
  assert.deepEqual(got, big);
  await closeAll(a, b);
});

test("a slow reader stalls only its own channel", guard, async () => {
  const [a, b] = pair();
  const [stalledW, stalledR] = await openPair(a, b);
  const [bulkW, bulkR] = await openPair(a, b);
  const stalled = pattern(4 * defaultWindowSize, 1);
  let stalledDone = false;
  const stalledWrite = stalledW.write(stalled).then(() => (stalledDone = true));

  const bulk = pattern(8 << 20, 2);
  const bulkWrite = bulkW.write(bulk).then(() => bulkW.closeWrite());
  const got = await readAll(bulkR);
  await bulkWrite;
  assert.equal(await sha256(got), await sha256(bulk));

  assert.equal(stalledDone, false, "a write of four windows to a channel nobody reads returned");
  assert.ok(stalledR.bufferedBytes > 0, "the stalled channel received nothing");
  assert.ok(stalledR.bufferedBytes <= defaultWindowSize, `the stalled channel buffers ${stalledR.bufferedBytes} bytes, over its window`);

  // Reading unstalls it.
  const parts: Uint8Array[] = [];
  let n = 0;
  while (n < stalled.length) {
    assert.ok(stalledR.bufferedBytes <= defaultMaxWindowSize, "a read channel buffers more than its largest window");
    const part = (await stalledR.read())!;
    parts.push(part);
    n += part.length;
  }
  await stalledWrite;
  const all = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  assert.deepEqual(all, stalled);
  await closeAll(a, b);
});

test("simultaneous opens from both sides make independent channels", guard, async () => {
  const [a, b] = pair();
  const openers = 16;
  const each = 8;
  const serve = async (s: Session) => {
    const served: Promise<void>[] = [];
    for (let i = 0; i < openers * each; i++) {
      const ch = await s.accept();
      served.push(
        (async () => {
          const name = await readAll(ch);
          await ch.write(name);
          await ch.close();
        })(),
      );
    }
    await Promise.all(served);
  };
  const open = (s: Session, side: string) =>
    Promise.all(
      Array.from({ length: openers }, async (_, g) => {
        for (let i = 0; i < each; i++) {
          const ch = await s.open();
          const name = `${side}-${g}-${i}`;
          await ch.write(text(name));
          await ch.closeWrite();
          assert.equal(str(await readAll(ch)), name);
          await ch.close();
        }
      }),
    );
  await Promise.all([serve(a), serve(b), open(a, "a"), open(b, "b")]);
  await closeAll(a, b);
});

test("readable and writable streams: pipe through, backpressure, cancel closes", guard, async () => {
  const [a, b] = pair();
  const [ca, cb] = await openPair(a, b);
  const data = pattern(300_000, 9);
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < data.length; i += 7000) controller.enqueue(data.slice(i, i + 7000));
      controller.close();
    },
  });
  const piped = source.pipeTo(ca.writable);
  const parts: Uint8Array[] = [];
  const reader = cb.readable.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
  await piped;
  const got = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    got.set(p, at);
    at += p.length;
  }
  assert.deepEqual(got, data);

  // Cancelling a channel's readable closes the channel: the peer sees the end.
  const [cc, cd] = await openPair(a, b);
  await cc.readable.cancel();
  assert.equal(await cd.read(), null);
  await assert.rejects(cc.read(), (e: unknown) => isMuxError(e, "channel_closed"));
  await cd.close();
  await closeAll(a, b);
});

test("session end fails pending and later operations with the reason as cause", guard, async () => {
  const [a, b] = pair();
  const [ca] = await openPair(a, b);
  const pendingRead = ca.read();
  const pendingAccept = a.accept();
  await b.close();
  assert.equal(await b.done, undefined);
  assert.equal(await a.done, undefined, "a clean end of the stream by the peer");
  for (const p of [pendingRead, pendingAccept, a.open(), ca.write(text("x"))]) {
    await assert.rejects(p, (e: unknown) => e instanceof QtalkMuxError && e.kind === "session_closed");
  }
  await assert.rejects(b.open(), (e: unknown) => isMuxError(e, "session_closed"));
});

test("open and accept give up on abort", guard, async () => {
  const [a, b] = pair();
  const ac = new AbortController();
  const accepting = a.accept({ signal: ac.signal });
  ac.abort(new Error("stop"));
  await assert.rejects(accepting, /stop/);
  // The aborted accept took nothing: the next one gets the channel.
  const opened = b.open();
  const ch = await a.accept();
  await opened;
  await ch.close();
  await assert.rejects(a.open({ signal: AbortSignal.abort(new Error("already")) }), /already/);
  await closeAll(a, b);
});

test("too many channels", guard, async () => {
  const [a, b] = pair({ maxChannels: 2 });
  await openPair(a, b);
  await openPair(a, b);
  await assert.rejects(a.open(), (e: unknown) => isMuxError(e, "too_many_channels"));
  await closeAll(a, b);
});

test("invalid configs are refused", () => {
  const [a] = memoryPair();
  assert.throws(() => new Session(a, { windowSize: 1000, maxPacketSize: 2000 }), RangeError);
  assert.throws(() => new Session(a, { maxControlBacklog: 10 }), RangeError);
  assert.throws(() => new Session(a, { windowSize: 2 ** 32 }), RangeError);
  assert.throws(() => new Session(a, { windowSize: 1 << 20, maxWindowSize: 512 << 10 }), /maxWindowSize 524288 is below windowSize/);
  a.close();
});

test("a full accept backlog holds as many opens unanswered, then refuses", guard, async () => {
  const [a, b] = pair({ acceptBacklog: 2 });
  const settled: boolean[] = [];
  const opens = Array.from({ length: 4 }, (_, i) => {
    settled[i] = false;
    return a.open().then((ch) => {
      settled[i] = true;
      return ch;
    });
  });
  // The fifth is refused; the answers come in order, so by then the first
  // two were confirmed and the next two left waiting.
  await assert.rejects(a.open(), (e: unknown) => isMuxError(e, "open_rejected"));
  assert.deepEqual(settled, [true, true, false, false]);
  assert.equal(b.channelCount, 2, "unanswered opens hold no number");
  // Each accept makes room for one waiting open.
  for (let i = 0; i < 4; i++) await b.accept();
  await Promise.all(opens);
  assert.deepEqual(settled, [true, true, true, true]);
  await closeAll(a, b);
});

test("a local close still sends what was queued before it", guard, async () => {
  const [a, b] = pair();
  const [ca, cb] = await openPair(a, b);
  await ca.write(text("last words"));
  await ca.closeWrite();
  await a.close();
  assert.equal(str(await readAll(cb)), "last words");
  assert.equal(await b.done, undefined);
});
