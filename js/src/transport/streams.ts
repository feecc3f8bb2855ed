// The readable side transports share: a ReadableStream that a transport
// pushes received bytes into, with backpressure on the source, or which
// hands them straight to a Conn.receive receiver.

import type { ConnReceiver } from "../mux.js";

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
  /** The stream, made on first use; not with divert. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Queues bytes for the reader (they then belong to it); ignored after end or fail. */
  push(chunk: Uint8Array): void;
  /** Ends the stream cleanly once the reader has what is queued. */
  end(): void;
  /** Breaks the stream: queued bytes are dropped, pending and later reads fail with err. */
  fail(err: Error): void;
  /**
   * Sends what is queued, what is pushed later and the end to receiver
   * instead of the stream, without backpressure (Conn.receive).
   */
  divert(receiver: ConnReceiver): void;
  /** Bytes queued and not yet read. */
  readonly queuedBytes: number;
  /** True once end or fail was called (or the reader cancelled). */
  readonly finished: boolean;
}

/**
 * Returns a feed whose queue holds highWaterMark bytes: once a push fills it
 * the source is paused, and it resumes when the reader has taken enough
 * that the queue is below the mark again. A source that cannot pause makes
 * pause a no-op and bounds the queue itself with queuedBytes. Until the
 * stream is made or the feed diverted, pushes wait in an array, paused by
 * the same mark.
 */
export function feedReadable(source: FeedSource, highWaterMark: number): Feed {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let stream: ReadableStream<Uint8Array> | undefined;
  let receiver: ConnReceiver | undefined;
  // Before the stream or the receiver: what was pushed, and how it ended.
  let early: Uint8Array[] = [];
  let earlyBytes = 0;
  let earlyEnd: { err?: Error } | undefined;
  let paused = false;
  let finished = false;
  const pause = () => {
    if (paused) return;
    paused = true;
    source.pause();
  };
  const resume = () => {
    if (!paused || finished) return;
    paused = false;
    source.resume();
  };
  const makeStream = () =>
    new ReadableStream<Uint8Array>(
      {
        start(c) {
          controller = c;
          for (const chunk of early) c.enqueue(chunk);
          if (earlyEnd?.err !== undefined) c.error(earlyEnd.err);
          else if (earlyEnd !== undefined) c.close();
          early = [];
        },
        pull() {
          resume();
        },
        cancel(reason) {
          finished = true;
          source.cancel(reason);
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark }),
    );
  /** Ends whichever consumer there is. */
  const finish = (err: Error | undefined) => {
    if (finished) return;
    finished = true;
    if (receiver !== undefined) receiver.end(err);
    else if (controller === undefined) earlyEnd = { err };
    else if (err === undefined) controller.close();
    else controller.error(err);
  };
  return {
    get readable() {
      if (receiver !== undefined) throw new TypeError("transport: the feed was diverted");
      stream ??= makeStream();
      return stream;
    },
    push(chunk) {
      if (finished || chunk.length === 0) return;
      if (receiver !== undefined) return receiver.data(chunk);
      if (controller === undefined) {
        early.push(chunk);
        earlyBytes += chunk.length;
        if (earlyBytes >= highWaterMark) pause();
        return;
      }
      controller.enqueue(chunk);
      if ((controller.desiredSize ?? 0) <= 0) pause();
    },
    end() {
      finish(undefined);
    },
    fail(err) {
      if (!finished && controller === undefined) early = []; // dropped, as the stream drops its queue
      finish(err);
    },
    divert(r) {
      if (stream !== undefined || receiver !== undefined) throw new TypeError("transport: the feed is in use");
      receiver = r;
      const chunks = early;
      early = [];
      earlyBytes = 0;
      for (const chunk of chunks) r.data(chunk);
      if (earlyEnd !== undefined) r.end(earlyEnd.err);
      resume();
    },
    get queuedBytes() {
      if (finished || receiver !== undefined) return 0;
      return controller === undefined ? earlyBytes : highWaterMark - (controller.desiredSize ?? 0);
    },
    get finished() {
      return finished;
    },
  };
}
