// An in-memory connection pair, for tests and for running both ends of a
// session in one process. Each direction buffers a bounded number of bytes,
// as a socket does: writes wait while the reader leaves the buffer full.

import type { Conn } from "../mux.js";

/** Options of memoryPair. */
export interface MemoryPairOptions {
  /** Bytes each direction buffers before writes wait for the reader. Default 64 KiB. */
  bufferSize?: number;
}

/** The bytes each direction buffers by default, like a socket's buffer. */
export const defaultMemoryBufferSize = 64 << 10;

/** The error of reads and writes on a memory connection after it was closed. */
export class MemoryConnClosedError extends Error {
  readonly code = "closed";
  constructor(what: string) {
    super(`memory conn: ${what}`);
    this.name = "MemoryConnClosedError";
  }
}

/**
 * One direction: what is written to writable is read from readable, in
 * order. Written chunks are copied, so the writer may reuse its buffer once
 * the write resolves, as with a socket.
 */
class Pipe {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  private readController!: ReadableStreamDefaultController<Uint8Array>;
  private writeController!: WritableStreamDefaultController;
  private open = true;
  /** A write waiting for the reader to make room. */
  private roomWaiter: { resolve(): void; reject(err: Error): void } | undefined;

  constructor(bufferSize: number) {
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.readController = controller;
        },
        pull: () => {
          const waiter = this.roomWaiter;
          this.roomWaiter = undefined;
          waiter?.resolve();
        },
        cancel: () => this.fail(new MemoryConnClosedError("the peer stopped reading")),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: bufferSize }),
    );
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.writeController = controller;
      },
      write: async (chunk) => {
        // In pieces of at most the buffer, as a socket takes a long write:
        // the write fails partway if the reader goes away.
        for (let at = 0; at < chunk.length; at += bufferSize) {
          if (!this.open) throw new MemoryConnClosedError("write after close");
          this.readController.enqueue(new Uint8Array(chunk.subarray(at, at + bufferSize)));
          if ((this.readController.desiredSize ?? 0) <= 0) {
            await new Promise<void>((resolve, reject) => (this.roomWaiter = { resolve, reject }));
          }
        }
      },
      close: () => this.end(),
      abort: (reason) => this.fail(reason instanceof Error ? reason : new MemoryConnClosedError("write side aborted")),
    });
  }

  /** Ends the stream: the reader gets what is buffered, then the end; writes fail. */
  end(): void {
    if (!this.open) return;
    this.open = false;
    this.readController.close();
    this.stopWriter(new MemoryConnClosedError("closed"));
  }

  /** Breaks the stream: buffered bytes are dropped, pending and later reads and writes fail with err. */
  fail(err: Error): void {
    this.open = false;
    this.readController.error(err);
    this.stopWriter(err);
  }

  private stopWriter(err: Error): void {
    this.writeController.error(err);
    const waiter = this.roomWaiter;
    this.roomWaiter = undefined;
    waiter?.reject(err);
  }
}

/**
 * Returns two connected Conns: bytes written to one's writable come out of
 * the other's readable. Closing a writable ends the other side's readable;
 * close() on either ends both directions: the other side reads what was
 * already written, then the end, and its writes fail, while this side's
 * pending reads and writes fail at once.
 */
export function memoryPair(options: MemoryPairOptions = {}): [Conn, Conn] {
  const size = options.bufferSize ?? defaultMemoryBufferSize;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`memory conn: bufferSize ${size} is not a positive integer`);
  const aToB = new Pipe(size);
  const bToA = new Pipe(size);
  const conn = (incoming: Pipe, outgoing: Pipe, remoteAddress: string): Conn => ({
    readable: incoming.readable,
    writable: outgoing.writable,
    remoteAddress,
    close() {
      outgoing.end();
      incoming.fail(new MemoryConnClosedError("closed"));
    },
  });
  return [conn(bToA, aToB, "memory:b"), conn(aToB, bToA, "memory:a")];
}
