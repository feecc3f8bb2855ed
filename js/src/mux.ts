// The Session/Channel API every layer above is written against, as in Go's
// package mux. A Session multiplexes full-duplex Channels over one byte
// stream (a Conn); qmux (./qmux) is the implementation.

/**
 * A Conn is a reliable, ordered byte stream: what a transport gives and a
 * Session runs over. Its readable ends when the peer ends the stream; closing
 * its writable ends ours; close() tears both down at once. The chunks read
 * belong to the reader: the Conn never writes to them again.
 */
export interface Conn {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Closes both directions at once; pending reads and writes fail. */
  close(): void;
  /** Where the stream goes, for logs (e.g. "tcp://127.0.0.1:4242"). */
  readonly remoteAddress?: string;
  /**
   * Optional fast path, for a reader that never waits (a Session): instead
   * of reading readable, which costs a promise and a queue per chunk, the
   * Conn calls receiver.data with each chunk received (the chunk then
   * belongs to the receiver), without backpressure, and then receiver.end
   * once. Called at most once; readable is not read then.
   */
  receive?(receiver: ConnReceiver): void;
  /**
   * Optional fast path: sends chunk, which the Conn may keep, and settles
   * as a write to writable would. Not mixed with writable's writer.
   */
  write?(chunk: Uint8Array): Promise<void>;
}

/** What Conn.receive delivers to. */
export interface ConnReceiver {
  /** Bytes received, in order. */
  data(chunk: Uint8Array): void;
  /** The stream ended: cleanly if err is undefined, else with the error reads would fail with. */
  end(err?: Error): void;
}

/** Options of calls that wait. */
export interface WaitOptions {
  /** Gives up waiting when aborted; the call rejects with signal.reason. */
  signal?: AbortSignal;
}

/**
 * A Session carries many Channels over one Conn. Both ends may open
 * channels at the same time.
 */
export interface Session {
  /** Opens a channel and waits until the peer accepts it (or refuses: ErrOpenRejected). */
  open(options?: WaitOptions): Promise<Channel>;
  /** Waits for the next channel the peer opens. Rejects with the session's end once it ended. */
  accept(options?: WaitOptions): Promise<Channel>;
  /** Ends the session and its channels; resolves when the Conn is closed. */
  close(): Promise<void>;
  /**
   * Settles once the session ended: fulfils with undefined after a local
   * close() or a clean end of the stream by the peer, rejects never;
   * the error that ended it otherwise (a QtalkMuxError whose kind says why).
   */
  readonly done: Promise<Error | undefined>;
  /** Where the Conn goes, if the transport said. */
  readonly remoteAddress?: string;
}

/**
 * A Channel is one full-duplex byte stream of a Session. read/write and the
 * readable/writable streams are two views of the same channel: use one or
 * the other for each direction, not both.
 */
export interface Channel extends AsyncIterable<Uint8Array> {
  /** This side's channel number, unique among the channels the session holds. */
  readonly id: number;
  /**
   * Resolves with the next bytes received, or null at the end of the
   * stream (the peer half-closed or closed). Rejects if the channel or the
   * session failed. The returned bytes belong to the caller.
   */
  read(): Promise<Uint8Array | null>;
  /**
   * Sends data, waiting for the peer's window as needed; resolves when all
   * of it is handed to the session (not when the peer read it). Rejects
   * with ErrChannelClosed after closeWrite or close, or with the session's
   * error. The caller may reuse data once it resolves.
   */
  write(data: Uint8Array): Promise<void>;
  /** Half-closes: the peer reads the end of the stream after what was written. */
  closeWrite(): Promise<void>;
  /** Closes both directions; unread data is discarded. Idempotent. */
  close(): Promise<void>;
  /** The channel's bytes as a stream (closing the channel when cancelled). */
  readonly readable: ReadableStream<Uint8Array>;
  /** A stream whose writes are write(), whose close is closeWrite() and whose abort is close(). */
  readonly writable: WritableStream<Uint8Array>;
}
