// The readable side transports share: a ReadableStream that a transport
// pushes received bytes into, with backpressure on the source.

/** What a feed asks of the source of its bytes. */
export interface FeedSource {
  /** Stops delivering bytes until resume (a socket's pause). */
  pause(): void;
  resume(): void;
  /** The reader cancelled the stream: stop and release the source. */
  cancel(reason: unknown): void;
}

/** A ReadableStream fed by a transport. */
export interface Feed {
  readonly readable: ReadableStream<Uint8Array>;
  /** Queues bytes for the reader (they then belong to it); ignored after end or fail. */
  push(chunk: Uint8Array): void;
  /** Ends the stream cleanly once the reader has what is queued. */
  end(): void;
  /** Breaks the stream: queued bytes are dropped, pending and later reads fail with err. */
  fail(err: Error): void;
  /** Bytes queued and not yet read. */
  readonly queuedBytes: number;
  /** True once end or fail was called (or the reader cancelled). */
  readonly finished: boolean;
}

/**
 * Returns a feed whose queue holds highWaterMark bytes: once a push fills it
 * the source is paused, and it resumes when the reader has taken enough
 * that the queue is below the mark again. A source that cannot pause makes
 * pause a no-op and bounds the queue itself with queuedBytes.
 */
export function feedReadable(source: FeedSource, highWaterMark: number): Feed {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let paused = false;
  let finished = false;
  const readable = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        if (paused && !finished) {
          paused = false;
          source.resume();
        }
      },
      cancel(reason) {
        finished = true;
        source.cancel(reason);
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark }),
  );
  return {
    readable,
    push(chunk) {
      if (finished || chunk.length === 0) return;
      controller.enqueue(chunk);
      if (!paused && (controller.desiredSize ?? 0) <= 0) {
        paused = true;
        source.pause();
      }
    },
    end() {
      if (finished) return;
      finished = true;
      controller.close();
    },
    fail(err) {
      if (finished) return;
      finished = true;
      controller.error(err);
    },
    get queuedBytes() {
      return finished ? 0 : highWaterMark - (controller.desiredSize ?? 0);
    },
    get finished() {
      return finished;
    },
  };
}
