// A growable byte buffer for the session's small encoded messages.

export class ByteBuffer {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity = 1024) {
    this.bytes = new Uint8Array(capacity);
  }

  /**
   * Makes room for n more bytes and returns the offset at which to write
   * them; the caller writes all n. Growing leaves earlier subarrays of the
   * old storage intact, so views taken before stay valid until reset.
   */
  reserve(n: number): number {
    const at = this.length;
    if (at + n > this.bytes.length) {
      const grown = new Uint8Array(Math.max(2 * this.bytes.length, at + n));
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
    }
    this.length = at + n;
    return at;
  }

  /** The written bytes, as a view. */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}
