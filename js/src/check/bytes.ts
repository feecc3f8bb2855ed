// Byte streams of the check and the interop scenarios: the pattern of
// spec/check.md section 5 (bytes from a 32-bit xorshift generator, so that
// lost, repeated or reordered bytes show), and reading an echo back.

/** The generator's starting state in spec/check.md. */
export const patternSeed = 2463534242;

/**
 * Returns n bytes of the pattern: for each byte the state x is updated
 * with x ^= x << 13; x ^= x >> 17; x ^= x << 5 (on 32 bits), and the byte
 * is its low 8 bits. Another seed (nonzero) gives another sequence, for
 * callers that want several distinct streams.
 */
export function pattern(n: number, seed: number = patternSeed): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  if (x === 0) throw new RangeError("pattern: the seed must be nonzero: xorshift stays at 0");
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The stream held more bytes than the reader expected. */
export class ExcessBytesError extends Error {
  constructor(limit: number) {
    super(`more than the ${limit} bytes expected came back`);
    this.name = "ExcessBytesError";
  }
}

/**
 * Reads source to its end into one buffer. Throws an ExcessBytesError
 * past limit bytes rather than grow: an echo longer than what was sent is
 * wrong anyway.
 */
export async function readAll(source: { read(): Promise<Uint8Array | null> }, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const buf = new Uint8Array(limit);
  let n = 0;
  for (;;) {
    const chunk = await source.read();
    if (chunk === null) return buf.subarray(0, n);
    if (chunk.length > limit - n) throw new ExcessBytesError(limit);
    buf.set(chunk, n);
    n += chunk.length;
  }
}

/** The first index at which a and b differ, or -1 if one is a prefix of the other. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && firstDifference(a, b) < 0;
}
