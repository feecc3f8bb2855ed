// Helpers of the transport tests: checksummed transfers through sessions
// and conns.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { Channel, Conn, Session } from "../mux.js";

/** A guard against hangs, never a delay that makes a test pass. */
export const guard = { timeout: 30_000 };

/** n bytes of a pattern that differs at every offset of a long run. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Reads a channel or a Conn's readable to its end. */
export async function readAll(source: Channel | ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const part of source as AsyncIterable<Uint8Array>) {
    parts.push(part);
    n += part.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

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
