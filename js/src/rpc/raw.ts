// The channel of a call once it carries raw bytes: reads start with what
// the frame reader had read past the last frame.

import { chunksOf, readableOf } from "../channelviews.js";
import type { Channel } from "../mux.js";
import type { FrameReader } from "./wire.js";

/**
 * A call's channel as a raw byte stream (spec/rpc.md section 7, "Raw"):
 * read() returns first the bytes that arrived after the reply's value
 * frame, then the channel's; writes, closeWrite and close are the
 * channel's.
 */
export class RawChannel implements Channel {
  private stream: ReadableStream<Uint8Array> | undefined;

  constructor(
    private readonly channel: Channel,
    private readonly frames: FrameReader,
  ) {}

  get id(): number {
    return this.channel.id;
  }

  async read(): Promise<Uint8Array | null> {
    const pending = this.frames.takeBuffered();
    if (pending !== undefined) return pending;
    // A read of the frame reader may be under way (the server watching
    // the call): its bytes come first.
    if (await this.frames.fill()) return this.frames.takeBuffered() ?? this.read();
    return null;
  }

  write(data: Uint8Array): Promise<void> {
    return this.channel.write(data);
  }

  closeWrite(): Promise<void> {
    return this.channel.closeWrite();
  }

  close(): Promise<void> {
    return this.channel.close();
  }

  get readable(): ReadableStream<Uint8Array> {
    this.stream ??= readableOf(this);
    return this.stream;
  }

  get writable(): WritableStream<Uint8Array> {
    return this.channel.writable;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return chunksOf(this);
  }
}
