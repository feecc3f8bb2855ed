// The stream views of a byte channel, for every Channel implementation:
// a pull-based ReadableStream and an async iterator over read().

/** What the views read: a channel's read() and close(). */
export interface ChunkSource {
  read(): Promise<Uint8Array | null>;
  close(): Promise<void>;
}

/**
 * A ReadableStream of source's chunks; cancelling it closes source. Nothing
 * is read ahead: the channel's buffer stays the only buffer, so its window
 * is what backpressures the peer.
 */
export function readableOf(source: ChunkSource): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      pull: async (controller) => {
        const chunk = await source.read();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel: () => source.close(),
    },
    { highWaterMark: 0 },
  );
}

/** The chunks of source until the end of its stream; stopping early leaves it open. */
export async function* chunksOf(source: ChunkSource): AsyncGenerator<Uint8Array> {
  for (;;) {
    const chunk = await source.read();
    if (chunk === null) return;
    yield chunk;
  }
}
