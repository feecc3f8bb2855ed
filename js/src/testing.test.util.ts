// Helpers of the tests of every layer: guards, byte patterns, reading to the end.

import { createHash } from "node:crypto";
import type { Channel } from "./mux.js";

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
