// Test helpers: a RawPeer plays the peer of a real Session by hand over a
// memory pair, writing raw messages and decoding what the session writes.

import assert from "node:assert/strict";
import { isMuxError, QtalkMuxError } from "../errors.js";
import type { Conn } from "../mux.js";
import { memoryPair } from "../transport/memory.js";
import type { Channel } from "./channel.js";
import type { Config } from "./config.js";
import { Session } from "./session.js";
import {
  encodeFrame,
  type Frame,
  frame,
  headerLength,
  msgChannelData,
  msgChannelOpen,
  msgChannelOpenConfirm,
  msgChannelOpenFailure,
  parseFrame,
} from "./wire.js";

/**
 * Small, so that limits are reached with little traffic, and windows fixed,
 * so that each adjust is known in advance (Go's hostileConfig).
 */
export const hostileConfig: Partial<Config> = { windowSize: 4096, maxWindowSize: 4096, maxPacketSize: 1024, acceptBacklog: 4, maxChannels: 16 };

/** Encodes frames; DATA frames get f.length bytes of payload "x". */
export function encode(...frames: Frame[]): Uint8Array {
  const parts = frames.map((f) => (f.type === msgChannelData ? concat(encodeFrame(f), new Uint8Array(f.length).fill(0x78)) : encodeFrame(f)));
  return concat(...parts);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A message the session wrote, with its payload for DATA. */
export interface Received {
  f: Frame;
  payload: Uint8Array;
}

/** Decodes the messages of a byte stream, however it is split into chunks. */
export class FrameReader {
  private buf: Uint8Array = new Uint8Array(0);
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(readable: ReadableStream<Uint8Array>) {
    this.reader = readable.getReader();
  }

  /** The next message, or null at the end of the stream. */
  async next(): Promise<Received | null> {
    for (;;) {
      const got = this.parse();
      if (got) return got;
      const { value, done } = await this.reader.read();
      if (done) {
        assert.equal(this.buf.length, 0, "the session's output ended in the middle of a message");
        return null;
      }
      this.buf = concat(this.buf, value);
    }
  }

  private parse(): Received | null {
    if (this.buf.length === 0) return null;
    const n = headerLength(this.buf[0]!);
    assert.ok(n > 0, `session wrote unknown message type ${this.buf[0]}`);
    if (this.buf.length < n) return null;
    const f = parseFrame(this.buf);
    const total = n + (f.type === msgChannelData ? f.length : 0);
    if (this.buf.length < total) return null;
    const payload = this.buf.slice(n, total);
    this.buf = this.buf.subarray(total);
    return { f, payload };
  }

  /** Reads to the end of the stream, discarding; resolves when it ended cleanly. */
  async drain(): Promise<void> {
    while ((await this.next()) !== null);
  }
}

export class RawPeer {
  readonly session: Session;
  readonly conn: Conn;
  readonly frames: FrameReader;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private syncId = 0xffffffff;

  constructor(config: Partial<Config> = hostileConfig, bufferSize?: number) {
    const [a, b] = memoryPair(bufferSize === undefined ? {} : { bufferSize });
    this.session = new Session(a, config);
    this.conn = b;
    this.frames = new FrameReader(b.readable);
    this.writer = b.writable.getWriter();
    this.writer.closed.catch(() => {});
  }

  write(bytes: Uint8Array): Promise<void> {
    return this.writer.write(bytes);
  }

  send(...frames: Frame[]): Promise<void> {
    return this.write(encode(...frames));
  }

  sendData(recipient: number, payload: Uint8Array): Promise<void> {
    return this.write(concat(encodeFrame(frame({ type: msgChannelData, recipient, length: payload.length })), payload));
  }

  /** Ends the peer's side of the stream (the session reads EOF). */
  closeWrite(): Promise<void> {
    return this.writer.close();
  }

  async next(): Promise<Received> {
    const got = await this.frames.next();
    assert.ok(got !== null, "the session's output ended");
    return got;
  }

  async expect(want: Frame): Promise<Uint8Array> {
    const { f, payload } = await this.next();
    assert.deepEqual(f, want);
    return payload;
  }

  /**
   * Returns once the session processed everything sent so far, with the
   * messages it wrote meanwhile: it sends an OPEN with max packet 0, which
   * the session refuses, and reads up to the refusal.
   */
  async sync(): Promise<Frame[]> {
    const id = this.syncId--;
    await this.send(frame({ type: msgChannelOpen, sender: id, window: 4096, maxPacket: 0 }));
    const before: Frame[] = [];
    for (;;) {
      const { f } = await this.next();
      if (f.type === msgChannelOpenFailure && f.recipient === id) return before;
      before.push(f);
    }
  }

  async syncQuiet(): Promise<void> {
    assert.deepEqual(await this.sync(), [], "the session wrote messages where none were due");
  }

  /** Opens a channel from the peer under its number id; returns the session's number. */
  async openFromPeer(id: number, window = 4096, maxPacket = 1024): Promise<number> {
    await this.send(frame({ type: msgChannelOpen, sender: id, window, maxPacket }));
    const { f } = await this.next();
    assert.equal(f.type, msgChannelOpenConfirm, `the session answered OPEN with ${JSON.stringify(f)}`);
    assert.equal(f.recipient, id);
    assert.equal(f.window, this.session.config.windowSize);
    assert.equal(f.maxPacket, this.session.config.maxPacketSize);
    return f.sender;
  }

  /** Opens a channel from the session, confirmed by the peer under peerId. */
  async openFromSession(peerId: number, window = 1 << 20, maxPacket = 1024): Promise<{ ch: Channel; sid: number }> {
    const opened = this.session.open();
    const { f } = await this.next();
    assert.equal(f.type, msgChannelOpen);
    await this.send(frame({ type: msgChannelOpenConfirm, recipient: f.sender, sender: peerId, window, maxPacket }));
    return { ch: await opened, sid: f.sender };
  }

  /**
   * Proves the session still works: the peer opens a channel under id and
   * the application echoes on it; then the session opens one on which the
   * peer echoes.
   */
  async checkUsable(id: number): Promise<void> {
    const sid = await this.openFromPeer(id, 1 << 16, 1 << 10);
    let ch = await this.session.accept();
    while (ch.id !== sid) ch = await this.session.accept(); // earlier ones stay open, so nothing is written for them
    const echoed = (async () => {
      const got = await ch.read();
      assert.ok(got !== null);
      await ch.write(got);
    })();
    await this.sendData(sid, new TextEncoder().encode("ping"));
    assert.equal(new TextDecoder().decode(await this.expect(frame({ type: msgChannelData, recipient: id, length: 4 }))), "ping");
    await echoed;
    await ch.close();
    await this.expect(frame({ type: 106, recipient: id }));

    const { ch: och, sid: osid } = await this.openFromSession(id + 1);
    await och.write(new TextEncoder().encode("pong"));
    const payload = await this.expect(frame({ type: msgChannelData, recipient: id + 1, length: 4 }));
    await this.sendData(osid, payload);
    assert.equal(new TextDecoder().decode((await och.read())!), "pong");
    await och.close();
    await this.expect(frame({ type: 106, recipient: id + 1 }));
  }

  /**
   * Checks that the session ends with a protocol error, fails later
   * operations with it as the cause, and closes its end of the stream.
   */
  async expectProtocolError(): Promise<QtalkMuxError> {
    const err = await this.session.done;
    assert.ok(err instanceof QtalkMuxError, `done = ${err}, want a QtalkMuxError`);
    assert.equal(err.kind, "protocol", `done = ${err}`);
    await assert.rejects(this.session.open(), (e: unknown) => isMuxError(e, "session_closed") && isMuxError(e, "protocol"));
    await assert.rejects(this.session.accept(), (e: unknown) => isMuxError(e, "session_closed") && isMuxError(e, "protocol"));
    await this.frames.drain();
    await assert.rejects(this.write(new Uint8Array([106])));
    return err;
  }

  /** Ends both sides; for test cleanup. */
  async close(): Promise<void> {
    this.conn.close();
    await this.session.close();
  }
}
