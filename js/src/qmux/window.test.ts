// Windows that grow: a channel read as fast as it streams has its window
// doubled with each grant, up to maxWindowSize, within the session's room
// for grown windows (maxGrownWindows), as in Go's sessionwindow_test.go.

import { test } from "node:test";
import assert from "node:assert/strict";
import { maxGrownWindows, type Config } from "./config.js";
import type { Channel } from "./channel.js";
import { RawPeer } from "./rawpeer.test.util.js";
import { frame, msgChannelClose, msgChannelData, msgChannelOpen, msgChannelOpenConfirm, msgChannelWindowAdjust } from "./wire.js";

// A guard against hangs, never a delay that makes a test pass.
const guard = { timeout: 20_000 };

/** Opens a channel from the peer under id; returns the session's number and the accepted channel. */
async function open(p: RawPeer, id: number, maxPacket: number): Promise<{ sid: number; ch: Channel }> {
  await p.send(frame({ type: msgChannelOpen, sender: id, window: 1 << 20, maxPacket }));
  const { f } = await p.next();
  assert.equal(f.type, msgChannelOpenConfirm);
  return { sid: f.sender, ch: await p.session.accept() };
}

/**
 * Sends n bytes on the channel, half its window, all of them before the
 * application reads them, and expects the one adjust that answers once
 * the last of them is read: the half read, and what the window grew by.
 */
async function round(p: RawPeer, sid: number, id: number, ch: Channel, n: number, maxPacket: number, adjust: number) {
  for (let w = n; w > 0; w -= Math.min(w, maxPacket)) {
    await p.send(frame({ type: msgChannelData, recipient: sid, length: Math.min(w, maxPacket) }));
  }
  await p.syncQuiet();
  for (let got = 0; got < n; ) got += (await ch.read())!.length;
  await p.expect(frame({ type: msgChannelWindowAdjust, recipient: id, window: adjust }));
}

const k = 1024;
const cases: { name: string; config: Partial<Config>; halves: number[]; adjusts: number[] }[] = [
  // 16 KiB, then 32 KiB, then 64 KiB for good.
  { name: "up to maxWindowSize", config: { maxWindowSize: 64 * k }, halves: [8 * k, 16 * k, 32 * k, 32 * k], adjusts: [24 * k, 48 * k, 32 * k, 32 * k] },
  { name: "fixed", config: { maxWindowSize: 16 * k }, halves: [8 * k, 8 * k, 8 * k], adjusts: [8 * k, 8 * k, 8 * k] },
];
for (const { name, config, halves, adjusts } of cases) {
  test(`window: a channel read as fast as it streams grows its window, ${name}`, guard, async () => {
    const maxPacket = 16 * k;
    const p = new RawPeer({ ...config, windowSize: 16 * k, maxPacketSize: maxPacket });
    const { sid, ch } = await open(p, 0, maxPacket);
    let peerWindow = 16 * k;
    for (const [i, half] of halves.entries()) {
      await round(p, sid, 0, ch, half, maxPacket, adjusts[i]);
      peerWindow += adjusts[i] - half;
    }
    // Past its window, a channel's data is still a protocol error.
    for (let w = peerWindow; w > 0; w -= Math.min(w, maxPacket)) {
      await p.send(frame({ type: msgChannelData, recipient: sid, length: Math.min(w, maxPacket) }));
    }
    await p.syncQuiet();
    await p.send(frame({ type: msgChannelData, recipient: sid, length: 1 }));
    await p.expectProtocolError();
  });
}

test("window: grown windows stay within maxGrownWindows together, and a closed channel gives its growth back", guard, async () => {
  const window = maxGrownWindows / 4;
  const maxPacket = 64 * k;
  const p = new RawPeer({ windowSize: window, maxWindowSize: 4 * window, maxPacketSize: maxPacket });
  const a = await open(p, 0, maxPacket);
  const b = await open(p, 1, maxPacket);
  await round(p, a.sid, 0, a.ch, window / 2, maxPacket, window / 2 + window); // a grows by a quarter of the room
  await round(p, b.sid, 1, b.ch, window / 2, maxPacket, window / 2 + window); // b by another
  await round(p, a.sid, 0, a.ch, window, maxPacket, window + 2 * window); // a takes the rest
  await round(p, b.sid, 1, b.ch, window, maxPacket, window); // none left for b
  await a.ch.close();
  await p.expect(frame({ type: msgChannelClose, recipient: 0 }));
  await round(p, b.sid, 1, b.ch, window, maxPacket, window + 2 * window); // a's growth came back
  await p.close();
});
