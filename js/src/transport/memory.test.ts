import { test } from "node:test";
import assert from "node:assert/strict";
import { memoryPair, MemoryConnClosedError } from "./memory.js";

const guard = { timeout: 10_000 };

async function readBytes(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const { value, done } = await reader.read();
    assert.ok(!done, `stream ended after ${got} of ${n} bytes`);
    out.set(value, got);
    got += value.length;
  }
  return out;
}

test("memory: bytes written to one side come out of the other, both ways", guard, async () => {
  const [a, b] = memoryPair();
  const aw = a.writable.getWriter();
  const bw = b.writable.getWriter();
  await aw.write(new Uint8Array([1, 2, 3]));
  await bw.write(new Uint8Array([9]));
  assert.deepEqual(await readBytes(b.readable.getReader(), 3), new Uint8Array([1, 2, 3]));
  assert.deepEqual(await readBytes(a.readable.getReader(), 1), new Uint8Array([9]));
  a.close();
});

test("memory: a written buffer may be reused once the write resolves", guard, async () => {
  const [a, b] = memoryPair();
  const w = a.writable.getWriter();
  const buf = new Uint8Array([1, 2, 3]);
  await w.write(buf);
  buf.fill(0);
  assert.deepEqual(await readBytes(b.readable.getReader(), 3), new Uint8Array([1, 2, 3]));
  a.close();
});

test("memory: writes wait while the reader leaves the buffer full", guard, async () => {
  const [a, b] = memoryPair({ bufferSize: 100 });
  const w = a.writable.getWriter();
  let resolved = false;
  const write = w.write(new Uint8Array(250).fill(7)).then(() => (resolved = true));
  // Let every settled promise run: the write cannot finish without a reader.
  for (let i = 0; i < 20; i++) await Promise.resolve();
  assert.equal(resolved, false, "a write of 2.5 buffers finished with nobody reading");
  const got = await readBytes(b.readable.getReader(), 250);
  await write;
  assert.deepEqual(got, new Uint8Array(250).fill(7));
  a.close();
});

test("memory: closing a writable ends the other side's readable after the data", guard, async () => {
  const [a, b] = memoryPair();
  const w = a.writable.getWriter();
  await w.write(new Uint8Array([5]));
  await w.close();
  const r = b.readable.getReader();
  assert.deepEqual(await readBytes(r, 1), new Uint8Array([5]));
  assert.equal((await r.read()).done, true);
  // The other direction still works.
  await b.writable.getWriter().write(new Uint8Array([6]));
  assert.deepEqual(await readBytes(a.readable.getReader(), 1), new Uint8Array([6]));
  a.close();
});

test("memory: close() ends both directions", guard, async () => {
  const [a, b] = memoryPair({ bufferSize: 10 });
  const ar = a.readable.getReader();
  const pendingRead = ar.read();
  const aw = a.writable.getWriter();
  await aw.write(new Uint8Array([1]));
  a.close();
  await assert.rejects(pendingRead, MemoryConnClosedError);
  await assert.rejects(aw.write(new Uint8Array([2])), MemoryConnClosedError);
  // The other side reads what was written before, then the end, and cannot write.
  const br = b.readable.getReader();
  assert.deepEqual(await readBytes(br, 1), new Uint8Array([1]));
  assert.equal((await br.read()).done, true);
  await assert.rejects(b.writable.getWriter().write(new Uint8Array([3])), MemoryConnClosedError);
});

test("memory: a write waiting for room fails when the reader goes away", guard, async () => {
  const [a, b] = memoryPair({ bufferSize: 10 });
  const w = a.writable.getWriter();
  const write = w.write(new Uint8Array(100));
  await b.readable.cancel();
  await assert.rejects(write, MemoryConnClosedError);
  a.close();
});
