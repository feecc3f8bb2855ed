// A Conn over Node streams: a socket (one Duplex for both directions), or
// a process's stdin and stdout, or a child's stdout and stdin.

import type { Readable, Writable } from "node:stream";
import type { Conn } from "../mux.js";
import { messageOf, TransportError } from "../transport/errors.js";
import { feedReadable } from "../transport/streams.js";

/** Bytes a Conn's readable queues before it pauses its source (a socket's receive buffer does the rest). */
export const defaultReadHighWaterMark = 256 << 10;

/** How a Conn over Node streams ends and reports. */
export interface NodeConnOptions {
  remoteAddress?: string;
  /** Tears the streams down, for close(). */
  destroy(): void;
  /**
   * Runs when the input has ended, before the readable ends; throwing
   * makes the end an error instead (exec: a non-zero exit status).
   */
  onInputEnd?: () => Promise<void>;
  /** Makes the error of a failed write (exec: waits for the exit status to report it). */
  writeError?: (err: Error) => Promise<Error>;
}

/**
 * Returns a Conn that reads input and writes output, with the fast paths
 * receive and write. A write resolves once
 * output has handed the bytes to the system (its write callback), so at
 * most one chunk waits in Node's buffers, the caller may reuse its buffer,
 * and a peer that does not read holds the writer back. The readable pauses
 * input while defaultReadHighWaterMark bytes are queued unread. Closing the
 * writable ends output (a socket's half-close).
 */
export function nodeStreamConn(input: Readable, output: Writable, options: NodeConnOptions): Conn {
  let inputEnded = false;
  const closedError = (cause?: unknown) =>
    new TransportError("closed", cause === undefined ? "transport: connection closed" : `transport: ${messageOf(cause)}`, { cause });
  const feed = feedReadable(
    {
      pause: () => input.pause(),
      resume: () => input.resume(),
      // Teardown is close()'s: a reader that stops reading leaves the writer be.
      cancel: () => input.pause(),
    },
    defaultReadHighWaterMark,
  );
  input.on("data", (buf: Buffer) => feed.push(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)));
  input.on("end", () => {
    inputEnded = true;
    if (options.onInputEnd === undefined) return feed.end();
    options.onInputEnd().then(
      () => feed.end(),
      (err: unknown) => feed.fail(err instanceof Error ? err : closedError(err)),
    );
  });
  input.on("error", (err) => feed.fail(closedError(err)));
  input.on("close", () => {
    if (!inputEnded) feed.fail(closedError());
  });

  // Write errors (a child's closed stdin) reach the write callbacks; without
  // a listener they would also be thrown as uncaught.
  output.on("error", () => {});
  const writeError = async (err: Error) =>
    options.writeError ? options.writeError(err) : new TransportError("closed", `transport: write: ${err.message}`, { cause: err });
  const write = (chunk: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      output.write(chunk, (err) => (err ? writeError(err).then(reject) : resolve()));
    });
  const writable = new WritableStream<Uint8Array>({
    write,
    close: () =>
      new Promise<void>((resolve, reject) => {
        output.end((err?: Error | null) => (err ? writeError(err).then(reject) : resolve()));
      }),
    abort: () => options.destroy(),
  });

  return {
    get readable() {
      return feed.readable;
    },
    writable,
    remoteAddress: options.remoteAddress,
    receive: (receiver) => feed.divert(receiver),
    write,
    close() {
      feed.fail(closedError());
      options.destroy();
    },
  };
}
