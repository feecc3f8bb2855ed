// Helpers of the transport tests: checksummed transfers through sessions
// and conns.

import assert from "node:assert/strict";
import type { Channel, Conn, Session } from "../mux.js";
import { guard, pattern, readAll, sha256 } from "../testing.test.util.js";

export { guard, pattern, readAll, sha256 };



/** Writes data to a channel in pieces of size, then half-closes. */
export async function writeInPieces(ch: Channel, data: Uint8Array, size = 100_000): Promise<void> {
  for (let at = 0; at < data.length; at += size) await ch.write(data.subarray(at, at + size));
  await ch.closeWrite();
}

/** Accepts channels of a session and writes back what each reads, until the session ends. */
export async function echoChannels(session: Session): Promise<void> {
  for (;;) {
    let ch: Channel;
    try {
      ch = await session.accept();
    } catch {
      return;
    }
    void (async () => {
      for await (const part of ch) await ch.write(part);
      await ch.closeWrite();
    })().catch(() => ch.close());
  }
}

/** Sends size bytes through a channel of client that server echoes, and checks what comes back. */
export async function assertEchoes(client: Session, size = 8 << 20): Promise<void> {
  const data = pattern(size, 7);
  const ch = await client.open();
  const [echoed] = await Promise.all([readAll(ch), writeInPieces(ch, data)]);
  assert.equal(echoed.length, data.length);
  assert.equal(sha256(echoed), sha256(data));
  await ch.close();
}

/** Checks half-close on a pair of Conns: each side's end arrives after its bytes, and the other direction goes on. */
export async function assertHalfClose(a: Conn, b: Conn): Promise<void> {
  const hello = new TextEncoder().encode("hello");
  const writerA = a.writable.getWriter();
  await writerA.write(hello);
  await writerA.close();
  assert.deepEqual(await readAll(b.readable), hello);
  const reply = pattern(1 << 20, 3);
  const writerB = b.writable.getWriter();
  const [got] = await Promise.all([readAll(a.readable), writerB.write(reply).then(() => writerB.close())]);
  assert.equal(sha256(got), sha256(reply));
  a.close();
  b.close();
}
