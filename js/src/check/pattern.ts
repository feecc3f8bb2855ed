// The byte pattern of spec/check.md section 5: bytes from a 32-bit
// xorshift generator, so that lost, repeated or reordered bytes show.

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
