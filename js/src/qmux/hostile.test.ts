// The hostile cases of Go's mux/qmux/hostile_test.go: a raw peer sends
// malformed or abusive input, and the session ends with a protocol error
// (or refuses, or discards, as spec/qmux.md says) without throwing or
// hanging.

import { test } from "node:test";
import assert from "node:assert/strict";
import { isMuxError, QtalkMuxError } from "../errors.js";
import { encode, hostileConfig, RawPeer } from "./rawpeer.test.util.js";
import {
  encodeFrame,
  type Frame,
  frame,
  msgChannelClose,
  msgChannelData,
  msgChannelEOF,
  msgChannelOpen,
  msgChannelOpenConfirm,
  msgChannelOpenFailure,
  msgChannelWindowAdjust,
} from "./wire.js";

// A guard against hangs, never a delay that makes a test pass.
const guard = { timeout: 20_000 };

const window = hostileConfig.windowSize!;
const maxPacket = hostileConfig.maxPacketSize!;

const data = (recipient: number, length: number) => frame({ type: msgChannelData, recipient, length });
const eof = (recipient: number) => frame({ type: msgChannelEOF, recipient });
const close = (recipient: number) => frame({ type: msgChannelClose, recipient });
const adjust = (recipient: number, n: number) => frame({ type: msgChannelWindowAdjust, recipient, window: n });
const open = (sender: number, maxPacket = 1024) => frame({ type: msgChannelOpen, sender, window: 4096, maxPacket });

for (const length of [maxPacket + 1, 1 << 20, 0xfffffff0, 0xffffffff]) {
  test(`hostile: DATA of ${length} bytes is refused from its header`, guard, async () => {
    const p = new RawPeer();
    const sid = await p.openFromPeer(7);
    // Only the header: the session must fail without waiting for the payload.
    await p.write(encodeFrame(data(sid, length)));
    const err = await p.expectProtocolError();
    assert.match(err.message, /max packet/);
  });
}

test("hostile: empty DATA is allowed anywhere", guard, async () => {
  const p = new RawPeer();
  const sid = await p.openFromPeer(7);
  await p.send(data(sid, 0));
  await p.syncQuiet();
  const ch = await p.session.accept();
  await p.send(data(sid, 0), data(sid, 3), data(sid, 0), eof(sid));
  assert.equal(new TextDecoder().decode((await ch.read())!), "xxx");
  assert.equal(await ch.read(), null);
  await p.checkUsable(100);
  await p.close();
});

test("hostile: a payload of exactly the max packet is accepted", guard, async () => {
  const p = new RawPeer();
  const sid = await p.openFromPeer(7);
  const ch = await p.session.accept();
  const payload = new Uint8Array(maxPacket).fill(0x71);
  await p.sendData(sid, payload);
  assert.deepEqual(await ch.read(), payload);
  await p.checkUsable(100);
  await p.close();
});

for (const type of [0, 1, 90, 94, 99, 107, 200, 255]) {
  test(`hostile: unknown message type ${type}`, guard, async () => {
    const first = new RawPeer();
    await first.write(new Uint8Array([type, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert.match((await first.expectProtocolError()).message, /unknown message type/);

    const after = new RawPeer();
    await after.openFromPeer(7);
    await after.write(new Uint8Array([type])); // the type byte alone is enough to know
    await after.expectProtocolError();
  });
}

for (const f of [
  data(0, 1),
  data(1, 0),
  data(0xffffffff, 1),
  adjust(1, 1),
  eof(1),
  close(1),
  frame({ type: msgChannelOpenConfirm, recipient: 1, sender: 3, window: 4096, maxPacket: 1024 }),
  frame({ type: msgChannelOpenFailure, recipient: 1 }),
  close(0x7fffffff),
]) {
  test(`hostile: message type ${f.type} for unknown channel ${f.recipient}`, guard, async () => {
    const p = new RawPeer();
    if (f.recipient === 1) {
      // Channel 0 exists, so that 1 is just past the numbers in use.
      assert.equal(await p.openFromPeer(7), 0);
    }
    await p.send(f);
    assert.match((await p.expectProtocolError()).message, /unknown channel/);
  });
}

test("hostile: WINDOW_ADJUST past 2^32-1", guard, async (t) => {
  await t.test("at once", async () => {
    const p = new RawPeer();
    const sid = await p.openFromPeer(7, 4096);
    await p.send(adjust(sid, 0xffffffff - 4096 + 1));
    assert.match((await p.expectProtocolError()).message, /overflows/);
  });
  await t.test("in steps", async () => {
    const p = new RawPeer();
    const sid = await p.openFromPeer(7, 4096);
    await p.send(adjust(sid, 0x80000000));
    await p.syncQuiet();
    await p.send(adjust(sid, 0x80000000));
    await p.expectProtocolError();
  });
  await t.test("up to the limit and 0 are allowed", async () => {
    const p = new RawPeer();
    const sid = await p.openFromPeer(7, 4096);
    await p.send(adjust(sid, 0xffffffff - 4096), adjust(sid, 0));
    await p.syncQuiet();
    await p.checkUsable(100);
    await p.close();
  });
});

test("hostile: DATA past the window", guard, async (t) => {
  for (const accepted of [true, false]) {
    await t.test(accepted ? "accepted, never read" : "still in the accept backlog", async () => {
      const p = new RawPeer();
      const sid = await p.openFromPeer(7);
      const ch = accepted ? await p.session.accept() : undefined;
      for (let i = 0; i < window / maxPacket; i++) await p.send(data(sid, maxPacket));
      // The window is exactly used up, and an empty DATA is still allowed.
      await p.send(data(sid, 0));
      await p.syncQuiet();
      if (ch) assert.equal(ch.bufferedBytes, window);
      await p.send(data(sid, 1));
      assert.match((await p.expectProtocolError()).message, /exceeds its window/);
    });
  }
});

test("hostile: messages out of sequence", guard, async (t) => {
  const peer = 7;
  const fromPeer = (p: RawPeer) => p.openFromPeer(peer);
  const fromSession = async (p: RawPeer) => (await p.openFromSession(peer)).sid;
  const confirm = (sid: number) => frame({ type: msgChannelOpenConfirm, recipient: sid, sender: 8, window: 4096, maxPacket: 1024 });
  const failure = (sid: number) => frame({ type: msgChannelOpenFailure, recipient: sid });
  const cases: [string, (p: RawPeer) => Promise<number>, (sid: number) => Frame[]][] = [
    ["data after EOF", fromPeer, (sid) => [eof(sid), data(sid, 1)]],
    ["empty data after EOF", fromPeer, (sid) => [eof(sid), data(sid, 0)]],
    ["second EOF", fromPeer, (sid) => [eof(sid), eof(sid)]],
    ["second EOF on an opened channel", fromSession, (sid) => [eof(sid), eof(sid)]],
    ["confirmation of an accepted channel", fromPeer, (sid) => [confirm(sid)]],
    ["second confirmation", fromSession, (sid) => [confirm(sid)]],
    ["failure of an accepted channel", fromPeer, (sid) => [failure(sid)]],
    ["failure of a confirmed channel", fromSession, (sid) => [failure(sid)]],
    ["data after CLOSE", fromPeer, (sid) => [close(sid), data(sid, 1)]],
    ["EOF after CLOSE", fromPeer, (sid) => [close(sid), eof(sid)]],
    ["adjust after CLOSE", fromSession, (sid) => [close(sid), adjust(sid, 1)]],
    ["second CLOSE", fromSession, (sid) => [close(sid), close(sid)]],
  ];
  for (const [name, setup, bad] of cases) {
    await t.test(name, async () => {
      const p = new RawPeer();
      const sid = await setup(p);
      await p.send(...bad(sid));
      await p.expectProtocolError();
    });
  }
});

test("hostile: messages for a channel still waiting for its answer", guard, async (t) => {
  const cases: [string, (sid: number) => Frame][] = [
    ["data", (sid) => data(sid, 1)],
    ["empty data", (sid) => data(sid, 0)],
    ["EOF", (sid) => eof(sid)],
    ["adjust", (sid) => adjust(sid, 1)],
    ["CLOSE", (sid) => close(sid)],
    ["confirmation with max packet 0", (sid) => frame({ type: msgChannelOpenConfirm, recipient: sid, sender: 1, window: 4096 })],
  ];
  for (const [name, bad] of cases) {
    await t.test(name, async () => {
      const p = new RawPeer();
      const opened = p.session.open();
      const { f } = await p.next();
      assert.equal(f.type, msgChannelOpen);
      await p.send(bad(f.sender));
      await p.expectProtocolError();
      await assert.rejects(opened, (e: unknown) => isMuxError(e, "session_closed") && isMuxError(e, "protocol"));
    });
  }
});

test("hostile: the stream ending in the middle of a message", guard, async () => {
  const first = encode(open(7));
  const tails: Uint8Array[] = [];
  for (const f of [
    open(8),
    frame({ type: msgChannelOpenConfirm, recipient: 0, sender: 1, window: 2, maxPacket: 3 }),
    frame({ type: msgChannelOpenFailure, recipient: 0 }),
    adjust(0, 1),
    eof(0),
    close(0),
    data(0, 100),
  ]) {
    const b = encode(f);
    for (let n = 1; n < b.length; n++) tails.push(b.subarray(0, n));
  }
  for (const tail of tails) {
    const p = new RawPeer();
    await p.write(first);
    await p.write(tail);
    await p.closeWrite();
    const err = await p.session.done;
    assert.ok(err instanceof QtalkMuxError && err.kind === "protocol", `tail ${Buffer.from(tail).toString("hex")}: done = ${err}`);
    assert.match(err.message, /in the middle of a message/);
  }
});

test("hostile: the stream ending between messages is a clean end", guard, async () => {
  const p = new RawPeer();
  const sid = await p.openFromPeer(7);
  await p.send(data(sid, 10));
  await p.syncQuiet();
  await p.closeWrite();
  assert.equal(await p.session.done, undefined);
  await assert.rejects(p.session.open(), (e: unknown) => isMuxError(e, "session_closed") && !isMuxError(e, "protocol"));
});

test("hostile: OPEN with max packet 0 is refused and leaves nothing", guard, async () => {
  const p = new RawPeer();
  await p.send(open(42, 0));
  await p.expect(frame({ type: msgChannelOpenFailure, recipient: 42 }));
  assert.equal(p.session.channelCount, 0);
  await p.checkUsable(100);
  await p.close();
});

test("hostile: an open flood is confirmed up to the backlog, held as long again, refused beyond", guard, async () => {
  const opens = 10_000;
  const backlog = hostileConfig.acceptBacklog!;
  const p = new RawPeer({ ...hostileConfig, maxChannels: 64 });
  const flood = encode(...Array.from({ length: opens }, (_, i) => open(i)));
  const confirmed: number[] = [];
  const refused: number[] = [];
  // Read the replies while writing, as a peer that reads does.
  const replies = (async () => {
    while (refused.length < opens - 2 * backlog) {
      const { f } = await p.next();
      if (f.type === msgChannelOpenConfirm) confirmed.push(f.recipient);
      else if (f.type === msgChannelOpenFailure) refused.push(f.recipient);
      else assert.fail(`session wrote ${JSON.stringify(f)}`);
    }
  })();
  await p.write(flood);
  await replies;
  // In order: the first backlog opens confirmed, the next backlog waiting, the rest refused.
  assert.deepEqual(confirmed, Array.from({ length: backlog }, (_, i) => i));
  assert.deepEqual(refused, Array.from({ length: opens - 2 * backlog }, (_, i) => 2 * backlog + i));
  assert.ok(p.session.channelCount <= backlog, `${p.session.channelCount} channels held, over the accept backlog`);

  // Each accept makes room for the oldest waiting open.
  for (let i = 0; i < 2 * backlog; i++) {
    await p.session.accept();
    if (i < backlog) await p.expect(frame({ type: msgChannelOpenConfirm, recipient: backlog + i, sender: backlog + i, window, maxPacket }));
  }
  assert.equal(p.session.channelCount, 2 * backlog);
  await p.syncQuiet();
  await p.checkUsable(1 << 20);
  await p.close();
});

test("hostile: opens flooding a peer that does not read end the session", guard, async () => {
  const p = new RawPeer({ maxControlBacklog: 1024, acceptBacklog: 8 }, 256);
  const batch = encode(...Array.from({ length: 100 }, (_, i) => open(i)));
  let wrote = 0;
  try {
    for (; wrote < 1_000_000; wrote += 100) await p.write(batch);
  } catch {
    // The session ended and closed the stream.
  }
  assert.ok(wrote < 1_000_000, "the session read a million opens without ending");
  const err = await p.session.done;
  assert.ok(err instanceof QtalkMuxError, `done = ${err}`);
  assert.match(err.message, /peer is not reading/);
});

test("hostile: CLOSEs flooding a peer that does not read end the session", guard, async () => {
  const opens = 1000;
  const p = new RawPeer({ maxControlBacklog: 1024, acceptBacklog: opens, maxChannels: opens }, 256);
  const sids: number[] = [];
  for (let i = 0; i < opens; i += 20) {
    await p.send(...Array.from({ length: 20 }, (_, j) => open(i + j)));
    for (let j = 0; j < 20; j++) {
      const { f } = await p.next();
      assert.equal(f.type, msgChannelOpenConfirm);
      sids.push(f.sender);
    }
  }
  await assert.rejects(p.send(...sids.map(close)), "the session read every CLOSE without ending");
  const err = await p.session.done;
  assert.ok(err instanceof QtalkMuxError);
  assert.match(err.message, /peer is not reading/);
});

test("hostile: garbage ends the session with an error, never an exception", guard, async () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 50; i++) {
    const garbage = Uint8Array.from({ length: 1 + Math.floor(random() * 4096) }, () => Math.floor(random() * 256));
    if (i % 2 === 1) garbage[0] = 100 + Math.floor(random() * 7); // gets past the first byte
    const p = new RawPeer();
    const drained = p.frames.drain().catch(() => {});
    await p.write(garbage).catch(() => {}); // fails if the session gave up first
    await p.closeWrite().catch(() => {});
    const err = await p.session.done;
    assert.ok(err instanceof QtalkMuxError, `garbage ${i}: done = ${err}`);
    await drained;
  }
});

test("hostile: DATA, EOF and adjusts after a local close are discarded", guard, async () => {
  const p = new RawPeer();
  const sid = await p.openFromPeer(7);
  await (await p.session.accept()).close();
  await p.expect(close(7));
  assert.equal(p.session.channelCount, 1, "the number is held until the CLOSE handshake");
  // Twice the window, DATA after EOF, a second EOF and adjusts: all in flight.
  for (let i = 0; i < (2 * window) / maxPacket; i++) await p.send(data(sid, maxPacket));
  await p.send(adjust(sid, 1000), eof(sid), data(sid, 5), eof(sid), adjust(sid, 0xffffffff));
  await p.syncQuiet();
  await p.send(close(sid));
  await p.syncQuiet();
  assert.equal(p.session.channelCount, 0, "the number is free after the handshake");
  await p.checkUsable(100);
  await p.close();
});

test("hostile: the max packet check applies to a closing channel", guard, async () => {
  const p = new RawPeer();
  const sid = await p.openFromPeer(7);
  await (await p.session.accept()).close();
  await p.expect(close(7));
  await p.write(encodeFrame(data(sid, maxPacket + 1)));
  await p.expectProtocolError();
});

test("hostile: cancelled opens keep their number until the answer", guard, async (t) => {
  const cancelledOpen = async (p: RawPeer) => {
    const ac = new AbortController();
    const opened = p.session.open({ signal: ac.signal });
    const { f } = await p.next();
    assert.equal(f.type, msgChannelOpen);
    ac.abort(new Error("gave up"));
    await assert.rejects(opened, /gave up/);
    assert.equal(p.session.channelCount, 1, "the number stays reserved");
    return f.sender;
  };
  await t.test("late confirmation", async () => {
    const p = new RawPeer();
    const sid = await cancelledOpen(p);
    await p.send(frame({ type: msgChannelOpenConfirm, recipient: sid, sender: 77, window: 4096, maxPacket: 1024 }));
    await p.expect(close(77));
    // Sent before the peer saw the CLOSE: discarded.
    await p.send(data(sid, 1024), eof(sid));
    await p.syncQuiet();
    assert.equal(p.session.channelCount, 1);
    await p.send(close(sid));
    await p.syncQuiet();
    assert.equal(p.session.channelCount, 0);
    await p.checkUsable(100);
    await p.close();
  });
  await t.test("late failure", async () => {
    const p = new RawPeer();
    const sid = await cancelledOpen(p);
    await p.send(frame({ type: msgChannelOpenFailure, recipient: sid }));
    await p.syncQuiet();
    assert.equal(p.session.channelCount, 0);
    await p.checkUsable(100);
    await p.close();
  });
  await t.test("refused", async () => {
    const p = new RawPeer();
    await p.openFromSession(50);
    const opened = p.session.open();
    const { f } = await p.next();
    await p.send(frame({ type: msgChannelOpenFailure, recipient: f.sender }));
    await assert.rejects(opened, (e: unknown) => isMuxError(e, "open_rejected"));
    assert.equal(p.session.channelCount, 1, "a refused open leaves no state");
    await p.checkUsable(100);
    await p.close();
  });
});

test("hostile: numbers are reused only after CLOSE was sent and received", guard, async (t) => {
  await t.test("local close first", async () => {
    const p = new RawPeer();
    const { ch, sid: first } = await p.openFromSession(50);
    await ch.close();
    await p.expect(close(50));
    const { sid: second } = await p.openFromSession(51);
    assert.notEqual(second, first, "reused before the peer's CLOSE");
    await p.send(close(first));
    await p.syncQuiet();
    assert.equal(p.session.channelCount, 1);
    const { sid: third } = await p.openFromSession(52);
    assert.notEqual(third, second);
    assert.equal(third, first, "the freed number is reused");
    await p.close();
  });
  await t.test("peer close first", async () => {
    const p = new RawPeer();
    const first = await p.openFromPeer(7);
    const ch = await p.session.accept();
    await p.send(close(first));
    await p.expect(close(7)); // the reply completes the handshake
    assert.equal(await ch.read(), null);
    // While the application holds the channel, its number is not reused.
    const second = await p.openFromPeer(8);
    assert.notEqual(second, first);
    await ch.close(); // sends nothing more, frees the number
    await p.syncQuiet();
    await assert.rejects(ch.read(), (e: unknown) => isMuxError(e, "channel_closed"));
    assert.equal(p.session.channelCount, 1);
    await p.checkUsable(100);
    await p.close();
  });
  await t.test("simultaneous CLOSEs", async () => {
    const p = new RawPeer();
    const sid = await p.openFromPeer(7);
    const ch = await p.session.accept();
    await ch.close();
    await p.send(close(sid)); // crossed with the session's CLOSE
    await p.expect(close(7));
    await p.syncQuiet(); // no second CLOSE
    assert.equal(p.session.channelCount, 0);
    await p.close();
  });
});

test("hostile: max channels counts both directions", guard, async () => {
  const p = new RawPeer({ ...hostileConfig, maxChannels: 3 });
  await p.openFromSession(50);
  await p.openFromSession(51);
  const sid = await p.openFromPeer(7);
  const ch3 = await p.session.accept();
  await assert.rejects(p.session.open(), (e: unknown) => isMuxError(e, "too_many_channels"));
  await p.send(open(8));
  await p.expect(frame({ type: msgChannelOpenFailure, recipient: 8 }));
  await ch3.close();
  await p.expect(close(7));
  await p.send(open(9));
  await p.expect(frame({ type: msgChannelOpenFailure, recipient: 9 }));
  await p.send(close(sid));
  await p.syncQuiet();
  await p.openFromPeer(10);
  await p.close();
});

test("the session splits writes to the peer's max packet and stops at its window", guard, async () => {
  const p = new RawPeer();
  const opened = p.session.open();
  const { f } = await p.next();
  await p.send(frame({ type: msgChannelOpenConfirm, recipient: f.sender, sender: 5, window: 100, maxPacket: 30 }));
  const ch = await opened;
  const msg = Uint8Array.from({ length: 250 }, (_, i) => i);
  const written = ch.write(msg);
  const got: number[] = [];
  const readUpTo = async (n: number) => {
    while (got.length < n) {
      const { f: d, payload } = await p.next();
      assert.equal(d.type, msgChannelData);
      assert.equal(d.recipient, 5);
      assert.ok(d.length <= 30, `DATA of ${d.length} bytes exceeds the peer's max packet`);
      got.push(...payload);
    }
    assert.equal(got.length, n);
  };
  await readUpTo(100);
  await p.syncQuiet(); // nothing past the window
  await p.send(adjust(f.sender, 150));
  await readUpTo(250);
  await written;
  assert.deepEqual(Uint8Array.from(got), msg);
  await p.close();
});

test("the session grants window once half of it was read", guard, async () => {
  const p = new RawPeer();
  const sid = await p.openFromPeer(7);
  const ch = await p.session.accept();
  const half = window / 2;
  const readBytes = async (n: number) => {
    for (let got = 0; got < n; ) got += (await ch.read())!.length;
  };
  await p.send(data(sid, maxPacket), data(sid, half - maxPacket - 1));
  await p.syncQuiet();
  await readBytes(half - 1);
  await p.syncQuiet(); // below half: no adjust yet
  await p.send(data(sid, 1));
  await p.syncQuiet();
  await readBytes(1);
  await p.expect(adjust(7, half));
  // The peer's window is whole again: it may send all of it.
  for (let i = 0; i < window / maxPacket; i++) await p.send(data(sid, maxPacket));
  await p.syncQuiet();
  assert.equal(ch.bufferedBytes, window);
  for (let i = 0; i < 2; i++) {
    await readBytes(half);
    await p.expect(adjust(7, half));
  }
  await p.checkUsable(100);
  await p.close();
});

test("decoding: messages split at every byte, and many in one chunk", guard, async () => {
  const p = new RawPeer();
  const sid = await p.openFromPeer(7);
  const ch = await p.session.accept();
  const payload = Uint8Array.from({ length: 300 }, (_, i) => i);
  const stream = encode(data(sid, 0), adjust(sid, 10));
  const withPayload = new Uint8Array([...stream, ...encodeFrame(data(sid, payload.length)), ...payload, ...encodeFrame(eof(sid))]);
  for (const byte of withPayload) await p.write(new Uint8Array([byte]));
  const got: number[] = [];
  for (let chunk = await ch.read(); chunk !== null; chunk = await ch.read()) got.push(...chunk);
  assert.deepEqual(Uint8Array.from(got), payload);

  // Many messages in one chunk: opens, each confirmed in order.
  await p.write(encode(...Array.from({ length: 3 }, (_, i) => open(20 + i))));
  for (let i = 0; i < 3; i++) assert.equal((await p.next()).f.recipient, 20 + i);
  await p.checkUsable(100);
  await p.close();
});
