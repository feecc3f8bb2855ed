// src/errors.ts
var prefixes = {
  session_closed: "mux: session closed",
  open_rejected: "mux: open rejected by peer",
  channel_closed: "mux: channel closed",
  protocol: "mux: protocol error",
  too_many_channels: "mux: too many open channels"
};
var QtalkMuxError = class extends Error {
  kind;
  constructor(kind, detail, options) {
    super(detail ? `${prefixes[kind]}: ${detail}` : prefixes[kind], options);
    this.name = "QtalkMuxError";
    this.kind = kind;
  }
};
function isMuxError(err, kind) {
  for (let e = err, i = 0; e instanceof Error && i < 16; e = e.cause, i++) {
    if (e instanceof QtalkMuxError && e.kind === kind) return true;
  }
  return false;
}

// src/qmux/buffer.ts
var ByteBuffer = class {
  bytes;
  length = 0;
  constructor(capacity = 1024) {
    this.bytes = new Uint8Array(capacity);
  }
  /**
   * Makes room for n more bytes and returns the offset at which to write
   * them; the caller writes all n. Growing leaves earlier subarrays of the
   * old storage intact, so views taken before stay valid until reset.
   */
  reserve(n) {
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
  view() {
    return this.bytes.subarray(0, this.length);
  }
  reset() {
    this.length = 0;
  }
};

// src/channelviews.ts
function readableOf(source) {
  return new ReadableStream(
    {
      pull: async (controller) => {
        const chunk = await source.read();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel: () => source.close()
    },
    { highWaterMark: 0 }
  );
}
async function* chunksOf(source) {
  for (; ; ) {
    const chunk = await source.read();
    if (chunk === null) return;
    yield chunk;
  }
}

// src/qmux/queue.ts
var Queue = class {
  ring = [];
  head = 0;
  size = 0;
  get length() {
    return this.size;
  }
  push(v) {
    if (this.size === this.ring.length) {
      const ring = new Array(Math.max(8, 2 * this.ring.length));
      for (let i = 0; i < this.size; i++) ring[i] = this.ring[(this.head + i) % this.ring.length];
      this.ring = ring;
      this.head = 0;
    }
    this.ring[(this.head + this.size) % this.ring.length] = v;
    this.size++;
  }
  /** The front item; the queue must not be empty. */
  peek() {
    return this.ring[this.head];
  }
  /** The back item; the queue must not be empty. */
  peekLast() {
    return this.ring[(this.head + this.size - 1) % this.ring.length];
  }
  /** Takes the front item; the queue must not be empty. */
  shift() {
    const v = this.ring[this.head];
    this.ring[this.head] = void 0;
    this.head = (this.head + 1) % this.ring.length;
    this.size--;
    return v;
  }
  /** Removes the first item equal to v, if any (O(n): for rare removals such as an aborted wait). */
  remove(v) {
    for (let i = 0; i < this.size; i++) {
      if (this.ring[(this.head + i) % this.ring.length] !== v) continue;
      for (let j = i; j < this.size - 1; j++) {
        this.ring[(this.head + j) % this.ring.length] = this.ring[(this.head + j + 1) % this.ring.length];
      }
      this.ring[(this.head + this.size - 1) % this.ring.length] = void 0;
      this.size--;
      return true;
    }
    return false;
  }
  /** Empties the queue and returns what it held, front first. */
  drain() {
    const items = [];
    while (this.size > 0) items.push(this.shift());
    return items;
  }
};

// src/qmux/wire.ts
var msgChannelOpen = 100;
var msgChannelOpenConfirm = 101;
var msgChannelOpenFailure = 102;
var msgChannelWindowAdjust = 103;
var msgChannelData = 104;
var msgChannelEOF = 105;
var msgChannelClose = 106;
var maxHeaderLength = 17;
var maxUint32 = 4294967295;
function headerLength(type) {
  switch (type) {
    case msgChannelOpen:
      return 13;
    case msgChannelOpenConfirm:
      return 17;
    case msgChannelOpenFailure:
    case msgChannelEOF:
    case msgChannelClose:
      return 5;
    case msgChannelWindowAdjust:
    case msgChannelData:
      return 9;
  }
  return 0;
}
function readUint32(b, at) {
  return (b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3]) >>> 0;
}
function writeUint32(b, at, v) {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}
function parseFrame(b, at = 0) {
  const type = b[at];
  const u0 = readUint32(b, at + 1);
  switch (type) {
    case msgChannelOpen:
      return { type, recipient: 0, sender: u0, window: readUint32(b, at + 5), maxPacket: readUint32(b, at + 9), length: 0 };
    case msgChannelOpenConfirm:
      return {
        type,
        recipient: u0,
        sender: readUint32(b, at + 5),
        window: readUint32(b, at + 9),
        maxPacket: readUint32(b, at + 13),
        length: 0
      };
    case msgChannelWindowAdjust:
      return { type, recipient: u0, sender: 0, window: readUint32(b, at + 5), maxPacket: 0, length: 0 };
    case msgChannelData:
      return { type, recipient: u0, sender: 0, window: 0, maxPacket: 0, length: readUint32(b, at + 5) };
  }
  return { type, recipient: u0, sender: 0, window: 0, maxPacket: 0, length: 0 };
}
function putFrame(b, at, f) {
  b[at] = f.type;
  const fields = fieldsOf(f);
  for (let i = 0; i < fields.length; i++) writeUint32(b, at + 1 + 4 * i, fields[i]);
  return at + 1 + 4 * fields.length;
}
function fieldsOf(f) {
  switch (f.type) {
    case msgChannelOpen:
      return [f.sender, f.window, f.maxPacket];
    case msgChannelOpenConfirm:
      return [f.recipient, f.sender, f.window, f.maxPacket];
    case msgChannelWindowAdjust:
      return [f.recipient, f.window];
    case msgChannelData:
      return [f.recipient, f.length];
  }
  return [f.recipient];
}
function putShortFrame(b, at, type, recipient, value) {
  b[at] = type;
  writeUint32(b, at + 1, recipient);
  if (value === void 0) return at + 5;
  writeUint32(b, at + 5, value);
  return at + 9;
}
function protocolError(detail) {
  return new QtalkMuxError("protocol", `qmux: ${detail}`);
}

// src/qmux/channel.ts
var minSegmentSize = 1024;
var maxViewOverhead = 4;
function closedError() {
  return new QtalkMuxError("channel_closed");
}
var Channel = class {
  constructor(host, id) {
    this.host = host;
    this.id = id;
    this.receiveWindow = this.windowSize = host.windowSize;
  }
  host;
  id;
  /** @internal */
  state = "opening";
  /** @internal The opener gave up before the answer: close it when it comes. */
  abandoned = false;
  /** @internal */
  remoteId = 0;
  /** @internal */
  remoteMaxPacket = 0;
  /** @internal Bytes this side may still send. */
  sendWindow = 0;
  /** @internal Writes and EOF waiting for the writer, in order. */
  ops = new Queue();
  /** @internal In the session's ready queue. */
  readyQueued = false;
  /** @internal Window to give back to the peer. */
  grant = 0;
  /** @internal In the session's adjust queue. */
  adjustQueued = false;
  /** @internal */
  sentEOF = false;
  /** @internal */
  sentClose = false;
  /** @internal */
  gotClose = false;
  /** @internal No application holds the channel: close() was called, or no one ever got it. */
  released = false;
  segments = new Queue();
  buffered = 0;
  /** Bytes the peer may still send. */
  receiveWindow;
  /** The channel's window: windowSize, or more once grown. */
  windowSize;
  /** Bytes read but not yet granted back. */
  consumed = 0;
  gotEOF = false;
  closed = false;
  readWaiters = [];
  readableStream;
  writableStream;
  /** Bytes received and not yet read: at most the window this side gave, maxWindowSize at most. */
  get bufferedBytes() {
    return this.buffered;
  }
  async read() {
    for (; ; ) {
      if (this.closed) throw closedError();
      if (this.buffered > 0) return this.take();
      if (this.gotEOF) return null;
      const err = this.host.endError;
      if (err) throw err;
      await new Promise((resolve) => this.readWaiters.push(resolve));
    }
  }
  /** Takes the unread bytes of the first segment and grants window back if it is time to. */
  take() {
    const seg = this.segments.peek();
    const out = seg.bytes.subarray(seg.start, seg.end);
    if (this.segments.length > 1 || seg.end === seg.bytes.length) this.segments.shift();
    else seg.start = seg.end;
    this.buffered -= out.length;
    this.consumed += out.length;
    if (!this.gotEOF && !this.sentClose && this.consumed >= this.windowSize / 2) {
      const more = this.host.growWindow(Math.min(this.windowSize, this.host.maxWindowSize - this.windowSize));
      this.windowSize += more;
      this.grant += this.consumed + more;
      this.receiveWindow += this.consumed + more;
      this.consumed = 0;
      this.host.queueGrant(this);
    }
    return out;
  }
  write(data) {
    const err = this.writeError();
    if (err) return Promise.reject(err);
    if (data.length === 0) return Promise.resolve();
    if (this.ops.length === 0 && this.host.tryCopyData(this, data)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.ops.push({ data, sent: 0, resolve, reject });
      this.host.markReady(this);
    });
  }
  closeWrite() {
    const err = this.writeError();
    if (err) return Promise.reject(err);
    this.sentEOF = true;
    if (this.ops.length === 0) {
      this.host.queueControl(msgChannelEOF, this.remoteId);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.ops.push({ data: void 0, sent: 0, resolve, reject }));
  }
  close() {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.dropReceived();
    this.returnGrowth();
    this.released = true;
    this.retract(closedError);
    if (!this.host.endError && !this.sentClose) {
      this.sentClose = true;
      this.host.queueControl(msgChannelClose, this.remoteId);
    }
    if (this.gotClose) this.host.release(this);
    return Promise.resolve();
  }
  get readable() {
    this.readableStream ??= readableOf(this);
    return this.readableStream;
  }
  get writable() {
    this.writableStream ??= new WritableStream({
      write: (chunk) => this.write(chunk),
      close: () => this.closeWrite(),
      abort: () => this.close()
    });
    return this.writableStream;
  }
  /** The received chunks until the end of the stream. Stopping early leaves the channel open. */
  [Symbol.asyncIterator]() {
    return chunksOf(this);
  }
  /** Why a write or closeWrite cannot proceed, if it cannot. */
  writeError() {
    if (this.host.endError) return this.host.endError;
    if (this.released || this.sentEOF || this.sentClose) return closedError();
    return void 0;
  }
  /**
   * @internal Fails every queued write and EOF with the error of why(),
   * made only if one is queued: an error's stack costs more than a call.
   */
  retract(why) {
    if (this.ops.length === 0) return;
    const err = why();
    while (this.ops.length > 0) this.ops.shift().reject(err);
  }
  /** Gives the session back the room the window took past windowSize: no more data will be granted. */
  returnGrowth() {
    if (this.windowSize === this.host.windowSize) return;
    this.host.returnGrowth(this.windowSize - this.host.windowSize);
    this.windowSize = this.host.windowSize;
  }
  dropReceived() {
    while (this.segments.length > 0) this.segments.shift();
    this.buffered = 0;
    this.wakeReaders();
  }
  wakeReaders() {
    if (this.readWaiters.length === 0) return;
    const waiters = this.readWaiters;
    this.readWaiters = [];
    for (const wake of waiters) wake();
  }
  /**
   * @internal Checks a DATA header of length payload bytes for this open,
   * not locally closed channel and takes the bytes from the window.
   */
  acceptData(length) {
    if (this.gotEOF) throw protocolError(`DATA for channel ${this.id} after its EOF`);
    if (length > this.receiveWindow) {
      throw protocolError(`DATA of ${length} bytes for channel ${this.id} exceeds its window of ${this.receiveWindow}`);
    }
    this.receiveWindow -= length;
  }
  /**
   * @internal Appends src[start:end], part or all of a payload whose
   * header acceptData checked. src is the session's to give: a chunk of the Conn's. So that what a
   * channel holds stays near its window, a view holds its chunk's storage
   * only when the bytes are a good part of it; others are copied, small
   * payloads sharing storage.
   */
  receivePayload(src, start, end) {
    const n = end - start;
    if (n * maxViewOverhead >= src.buffer.byteLength) {
      this.segments.push({ bytes: src.subarray(start, end), start: 0, end: n });
      this.buffered += n;
      this.wakeReaders();
      return;
    }
    let tail = this.segments.length > 0 ? this.segments.peekLast() : void 0;
    while (start < end) {
      if (tail === void 0 || tail.end === tail.bytes.length) {
        tail = { bytes: new Uint8Array(Math.max(minSegmentSize, end - start)), start: 0, end: 0 };
        this.segments.push(tail);
      }
      const k = Math.min(end - start, tail.bytes.length - tail.end);
      tail.bytes.set(src.subarray(start, start + k), tail.end);
      tail.end += k;
      start += k;
      this.buffered += k;
    }
    this.wakeReaders();
  }
  /** @internal Records the peer's EOF. */
  receiveEOF() {
    if (this.gotEOF) throw protocolError(`second EOF for channel ${this.id}`);
    this.gotEOF = true;
    this.returnGrowth();
    this.wakeReaders();
  }
  /** @internal Records the peer's CLOSE: reads end after the buffered bytes, writes fail. */
  receiveClose() {
    this.gotClose = true;
    this.gotEOF = true;
    this.returnGrowth();
    this.retract(closedError);
    this.wakeReaders();
  }
  /** @internal Fails pending operations once the session ended. */
  sessionEnded(err) {
    this.retract(() => err);
    this.wakeReaders();
  }
};

// src/qmux/config.ts
var defaultWindowSize = 512 << 10;
var defaultMaxWindowSize = 4 << 20;
var maxGrownWindows = 16 << 20;
var defaultMaxPacketSize = 64 << 10;
var defaultAcceptBacklog = 256;
var defaultMaxChannels = 4096;
var defaultMaxControlBacklog = 64 << 10;
function resolveConfig(config = {}) {
  const windowSize = config.windowSize || defaultWindowSize;
  const c = {
    windowSize,
    maxWindowSize: config.maxWindowSize || Math.max(defaultMaxWindowSize, windowSize),
    maxPacketSize: config.maxPacketSize || defaultMaxPacketSize,
    acceptBacklog: config.acceptBacklog || defaultAcceptBacklog,
    maxChannels: config.maxChannels || defaultMaxChannels,
    maxControlBacklog: config.maxControlBacklog || defaultMaxControlBacklog
  };
  for (const [name, value] of Object.entries(c)) {
    if (!Number.isInteger(value) || value < 0 || value > maxUint32) {
      throw new RangeError(`qmux: invalid config: ${name} ${value} is not an integer from 0 to 2^32-1`);
    }
  }
  if (c.windowSize < c.maxPacketSize) {
    throw new RangeError(`qmux: invalid config: windowSize ${c.windowSize} is below maxPacketSize ${c.maxPacketSize}`);
  }
  if (c.maxWindowSize < c.windowSize) {
    throw new RangeError(`qmux: invalid config: maxWindowSize ${c.maxWindowSize} is below windowSize ${c.windowSize}`);
  }
  if (c.maxControlBacklog < 1024) {
    throw new RangeError(`qmux: invalid config: maxControlBacklog ${c.maxControlBacklog} is below 1024`);
  }
  return c;
}

// src/qmux/session.ts
var batchBudget = 256 << 10;
var copyThreshold = 2 << 10;
var copyBudget = 64 << 10;
var closeFlushTimeoutMs = 5e3;
var Session = class {
  done;
  remoteAddress;
  config;
  conn;
  /** conn.readable's reader, unless conn delivers by conn.receive. */
  reader;
  write;
  settleDone;
  writerDone;
  /** Channels by this side's number; undefined where free. */
  chans = [];
  freeIds = [];
  numChans = 0;
  /** What the channels' windows took past windowSize (growWindow), within maxGrownWindows. */
  grownWindows = 0;
  openers = /* @__PURE__ */ new Map();
  /** Confirmed channels waiting for accept(), at most config.acceptBacklog. */
  accepts = new Queue();
  /** Opens left unanswered while accepts is full, at most config.acceptBacklog. */
  waitingOpens = new Queue();
  acceptWaiters = new Queue();
  /** Encoded control messages and copied short writes, in order, for the writer. */
  ctl = new ByteBuffer();
  /** Bytes of ctl that are copied short writes. */
  ctlData = 0;
  /** Channels with a window grant to send. */
  adjusts = new Queue();
  /** Channels with a write or EOF to send and window for it. */
  ready = new Queue();
  wakeWriter;
  /** The pieces of the batch being built, and headers they point into. */
  pieces = [];
  headers = new ByteBuffer();
  ended = false;
  closedLocally = false;
  flushTimer;
  connClosed = false;
  endReason;
  // Decoder state, for messages split across chunks of conn.readable.
  partial = new Uint8Array(maxHeaderLength);
  partialLength = 0;
  // header bytes in partial; 0 between messages
  partialNeed = 0;
  // the header length of partial's message type
  payloadLeft = 0;
  // DATA payload bytes still to come
  payloadChannel;
  // where they go; undefined to discard them
  /** Starts a session over conn. Throws a RangeError if config is invalid. */
  constructor(conn, config) {
    this.config = resolveConfig(config);
    this.conn = conn;
    if (conn.remoteAddress !== void 0) this.remoteAddress = conn.remoteAddress;
    this.done = new Promise((resolve) => this.settleDone = resolve);
    if (conn.write !== void 0) {
      this.write = conn.write.bind(conn);
    } else {
      const writer = conn.writable.getWriter();
      writer.closed.catch(() => {
      });
      this.write = (chunk) => writer.write(chunk);
    }
    this.writerDone = this.writeLoop();
    if (conn.receive !== void 0) {
      conn.receive({ data: (chunk) => this.receive(chunk), end: (err) => this.receiveEnd(err) });
    } else {
      this.reader = conn.readable.getReader();
      this.reader.closed.catch(() => {
      });
      void this.readLoop(this.reader);
    }
  }
  /** What operations fail with once the session ended; undefined while it runs. */
  get endError() {
    return this.endReason;
  }
  get windowSize() {
    return this.config.windowSize;
  }
  /** @internal */
  get maxWindowSize() {
    return this.config.maxWindowSize;
  }
  /** @internal */
  growWindow(want) {
    const n = Math.max(0, Math.min(want, maxGrownWindows - this.grownWindows));
    this.grownWindows += n;
    return n;
  }
  /** @internal */
  returnGrowth(n) {
    this.grownWindows -= n;
  }
  /** How many channel numbers are held (diagnostics and tests). */
  get channelCount() {
    return this.numChans;
  }
  open(options) {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.endError) return Promise.reject(this.endError);
    const c = this.newChannel();
    if (c === void 0) {
      return Promise.reject(new QtalkMuxError("too_many_channels", `qmux: ${this.config.maxChannels} channels held`));
    }
    const at = this.ctl.reserve(13);
    putFrame(this.ctl.bytes, at, {
      type: msgChannelOpen,
      recipient: 0,
      sender: c.id,
      window: this.config.windowSize,
      maxPacket: this.config.maxPacketSize,
      length: 0
    });
    this.wake();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.openers.delete(c);
        c.abandoned = true;
        reject(signal.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.openers.set(c, {
        resolve: (ch) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(ch);
        },
        reject: (err) => {
          signal?.removeEventListener("abort", onAbort);
          reject(err);
        }
      });
    });
  }
  accept(options) {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.endError) return Promise.reject(this.endError);
    if (this.accepts.length > 0) {
      const c = this.accepts.shift();
      this.promoteWaiting();
      return Promise.resolve(c);
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.acceptWaiters.remove(waiter);
        reject(signal.reason);
      };
      const waiter = {
        resolve: (c) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(c);
        },
        reject: (err) => {
          signal?.removeEventListener("abort", onAbort);
          reject(err);
        }
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.acceptWaiters.push(waiter);
    });
  }
  /**
   * Ends the session: pending and later operations fail at once, but what
   * was queued before (the data of writes that resolved, CLOSEs) is still
   * sent, for up to closeFlushTimeoutMs if the peer does not read; then the
   * Conn is closed and the returned promise resolves.
   */
  async close() {
    this.end(void 0, true);
    await this.writerDone;
  }
  // ---- the reader ----
  async readLoop(reader) {
    while (!this.ended) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (err) {
        return this.receiveEnd(err);
      }
      if (chunk.done) return this.receiveEnd(void 0);
      this.receive(chunk.value);
    }
  }
  /** Decodes a chunk of the stream; a malformed message ends the session. */
  receive(chunk) {
    if (this.ended) return;
    try {
      this.decode(chunk);
    } catch (err) {
      this.end(err instanceof Error ? err : new Error(String(err)), false);
    }
  }
  /** Ends the session at the end of the stream: err undefined for a clean end. */
  receiveEnd(err) {
    if (this.ended) return;
    if (err !== void 0) {
      return this.end(new QtalkMuxError("session_closed", `qmux: read: ${messageOf(err)}`, { cause: err }), false);
    }
    const truncated = this.partialLength > 0 || this.payloadLeft > 0;
    this.end(truncated ? protocolError("connection ended in the middle of a message") : void 0, false);
  }
  /** Decodes and dispatches the messages in chunk, keeping any incomplete one for the next. */
  decode(chunk) {
    const n = chunk.length;
    let pos = 0;
    while (pos < n && !this.ended) {
      if (this.payloadLeft > 0) {
        const k2 = Math.min(this.payloadLeft, n - pos);
        this.payloadChannel?.receivePayload(chunk, pos, pos + k2);
        this.payloadLeft -= k2;
        pos += k2;
        continue;
      }
      if (this.partialLength === 0) {
        const type = chunk[pos];
        const need = headerLength(type);
        if (need === 0) throw protocolError(`unknown message type ${type}`);
        if (n - pos >= need) {
          this.dispatch(parseFrame(chunk, pos));
          pos += need;
          continue;
        }
        this.partial.set(chunk.subarray(pos), 0);
        this.partialLength = n - pos;
        this.partialNeed = need;
        return;
      }
      const k = Math.min(this.partialNeed - this.partialLength, n - pos);
      this.partial.set(chunk.subarray(pos, pos + k), this.partialLength);
      this.partialLength += k;
      pos += k;
      if (this.partialLength === this.partialNeed) {
        this.partialLength = 0;
        this.dispatch(parseFrame(this.partial, 0));
      }
    }
  }
  dispatch(f) {
    switch (f.type) {
      case msgChannelOpen:
        return this.handleOpen(f);
      case msgChannelData:
        return this.handleData(f);
    }
    const c = this.lookup(f);
    switch (f.type) {
      case msgChannelOpenConfirm:
        return this.handleOpenConfirm(c, f);
      case msgChannelOpenFailure:
        return this.handleOpenFailure(c);
      case msgChannelWindowAdjust:
        return this.handleWindowAdjust(c, f);
      case msgChannelEOF:
        if (!c.sentClose) c.receiveEOF();
        return;
      default:
        return this.handleClose(c);
    }
  }
  /**
   * Finds the channel a message other than OPEN names: a number in use,
   * waiting for an answer exactly when the message is one, and not closed
   * by the peer already (spec section 9, items 6 to 8).
   */
  lookup(f) {
    const c = this.chans[f.recipient];
    if (c === void 0) throw protocolError(`message type ${f.type} for unknown channel ${f.recipient}`);
    const answer = f.type === msgChannelOpenConfirm || f.type === msgChannelOpenFailure;
    if (answer !== (c.state === "opening")) {
      throw protocolError(`message type ${f.type} for channel ${f.recipient} in the wrong state`);
    }
    if (c.gotClose) throw protocolError(`message type ${f.type} for channel ${f.recipient} after its CLOSE`);
    return c;
  }
  /**
   * Confirms an open while the accept backlog has room; otherwise leaves it
   * unanswered, so that the opener waits until accept() makes room. Only
   * when that queue is full too, or the channel limit is reached, or the
   * open announces a max packet of 0, is it refused.
   */
  handleOpen(f) {
    if (f.maxPacket === 0 || this.numChans >= this.config.maxChannels) {
      this.queueReply(msgChannelOpenFailure, f.sender);
    } else if (this.waitingOpens.length === 0 && this.accepts.length < this.config.acceptBacklog) {
      this.confirm(f);
    } else if (this.waitingOpens.length < this.config.acceptBacklog) {
      this.waitingOpens.push(f);
    } else {
      this.queueReply(msgChannelOpenFailure, f.sender);
    }
  }
  /** Accepts the peer's open f and hands the channel to accept(); the backlog must have room. */
  confirm(f) {
    const c = this.newChannel();
    if (c === void 0) return this.queueReply(msgChannelOpenFailure, f.sender);
    c.state = "open";
    c.remoteId = f.sender;
    c.sendWindow = f.window;
    c.remoteMaxPacket = f.maxPacket;
    this.checkControlBacklog();
    const at = this.ctl.reserve(17);
    putFrame(this.ctl.bytes, at, {
      type: msgChannelOpenConfirm,
      recipient: f.sender,
      sender: c.id,
      window: this.config.windowSize,
      maxPacket: this.config.maxPacketSize,
      length: 0
    });
    this.wake();
    if (this.acceptWaiters.length > 0) this.acceptWaiters.shift().resolve(c);
    else this.accepts.push(c);
  }
  /** Confirms the oldest unanswered open now that accept() made room. */
  promoteWaiting() {
    if (this.ended || this.waitingOpens.length === 0 || this.accepts.length >= this.config.acceptBacklog) return;
    try {
      this.confirm(this.waitingOpens.shift());
    } catch (err) {
      this.end(err, false);
    }
  }
  handleOpenConfirm(c, f) {
    if (f.maxPacket === 0) throw protocolError(`OPEN_CONFIRMATION for channel ${c.id} with max packet 0`);
    c.state = "open";
    c.remoteId = f.sender;
    c.sendWindow = f.window;
    c.remoteMaxPacket = f.maxPacket;
    if (c.abandoned) {
      c.sentClose = true;
      c.released = true;
      this.queueReply(msgChannelClose, c.remoteId);
      return;
    }
    const opener = this.openers.get(c);
    this.openers.delete(c);
    opener?.resolve(c);
  }
  handleOpenFailure(c) {
    c.state = "rejected";
    this.release(c);
    const opener = this.openers.get(c);
    this.openers.delete(c);
    opener?.reject(new QtalkMuxError("open_rejected"));
  }
  handleWindowAdjust(c, f) {
    if (c.sentClose) return;
    if (c.sendWindow + f.window > maxUint32) {
      throw protocolError(`WINDOW_ADJUST of ${f.window} overflows the window of ${c.sendWindow} of channel ${c.id}`);
    }
    c.sendWindow += f.window;
    this.markReady(c);
  }
  handleClose(c) {
    c.receiveClose();
    if (!c.sentClose) {
      c.sentClose = true;
      this.queueReply(msgChannelClose, c.remoteId);
    }
    if (c.released) this.release(c);
  }
  /**
   * Checks a DATA header before any of its payload is taken: the length
   * against the max packet first, whatever the channel, then the channel
   * and its window. The payload then goes to the channel as it arrives.
   */
  handleData(f) {
    if (f.length > this.config.maxPacketSize) {
      throw protocolError(
        `DATA of ${f.length} bytes for channel ${f.recipient} exceeds the max packet size ${this.config.maxPacketSize}`
      );
    }
    const c = this.lookup(f);
    if (c.sentClose) {
      this.payloadChannel = void 0;
    } else {
      c.acceptData(f.length);
      this.payloadChannel = c;
    }
    this.payloadLeft = f.length;
  }
  // ---- channel numbers ----
  newChannel() {
    if (this.numChans >= this.config.maxChannels) return void 0;
    const id = this.freeIds.length > 0 ? this.freeIds.pop() : this.chans.length;
    const c = new Channel(this, id);
    this.chans[id] = c;
    this.numChans++;
    return c;
  }
  /** @internal */
  release(c) {
    if (this.chans[c.id] !== c) return;
    this.chans[c.id] = void 0;
    this.freeIds.push(c.id);
    this.numChans--;
  }
  // ---- the send queue ----
  /** @internal */
  queueControl(type, recipient) {
    const at = this.ctl.reserve(5);
    putShortFrame(this.ctl.bytes, at, type, recipient);
    this.wake();
  }
  /** Queues a control message the peer provoked, within the control backlog. */
  queueReply(type, recipient) {
    this.checkControlBacklog();
    this.queueControl(type, recipient);
  }
  /**
   * Ends the session (by throwing out of the reader) when the peer keeps
   * provoking replies it does not read, instead of queueing them without
   * bound.
   */
  checkControlBacklog() {
    if (this.ctl.length - this.ctlData >= this.config.maxControlBacklog) {
      throw new QtalkMuxError(
        "session_closed",
        `qmux: peer is not reading: control backlog of ${this.config.maxControlBacklog} bytes full`
      );
    }
  }
  /**
   * @internal A short write that fits the peer's window and max packet is
   * copied into the control queue as one DATA message, so that it resolves
   * at once and leaves in the same batch as what is queued with it (a
   * request, then its EOF). The caller checked that c has nothing queued.
   */
  tryCopyData(c, data) {
    const n = data.length;
    if (n >= copyThreshold || n > c.sendWindow || n > c.remoteMaxPacket || this.ctlData + n > copyBudget) return false;
    const at = this.ctl.reserve(9 + n);
    putShortFrame(this.ctl.bytes, at, msgChannelData, c.remoteId, n);
    this.ctl.bytes.set(data, at + 9);
    this.ctlData += 9 + n;
    c.sendWindow -= n;
    this.wake();
    return true;
  }
  /** @internal */
  markReady(c) {
    if (c.readyQueued || c.ops.length === 0 || c.sendWindow === 0) return;
    c.readyQueued = true;
    this.ready.push(c);
    this.wake();
  }
  /** @internal */
  queueGrant(c) {
    if (this.ended || c.adjustQueued) return;
    c.adjustQueued = true;
    this.adjusts.push(c);
    this.wake();
  }
  wake() {
    const wake = this.wakeWriter;
    if (wake === void 0) return;
    this.wakeWriter = void 0;
    afterTurn(wake);
  }
  hasWork() {
    return this.ctl.length > 0 || this.adjusts.length > 0 || this.ready.length > 0;
  }
  // ---- the writer ----
  /**
   * Writes batches until the session ends. An idle writer wakes after the
   * turn that queued something (see afterTurn), so that everything queued
   * in it shares one write: a reply's CLOSE leaves with the next call. While
   * a write is under way the next batch accumulates. No timers.
   */
  async writeLoop() {
    try {
      for (; ; ) {
        while (!this.ended && !this.hasWork()) await new Promise((resolve) => this.wakeWriter = resolve);
        if (this.ended) break;
        const batch = this.fillBatch();
        if (batch.length > 0) await this.write(batch);
      }
      if (this.closedLocally && this.ctl.length > 0) {
        const rest = this.ctl.view().slice();
        this.ctl.reset();
        await this.write(rest);
      }
    } catch (err) {
      this.end(new QtalkMuxError("session_closed", `qmux: write: ${messageOf(err)}`, { cause: err }), false);
    }
    clearTimeout(this.flushTimer);
    this.closeConn();
  }
  /**
   * Moves the queued control messages, window grants and up to batchBudget
   * bytes of writes into one new array (the transport may keep it). Ready
   * channels send one packet per turn and go to the back of the queue, so
   * large writes interleave fairly.
   */
  fillBatch() {
    const pieces = this.pieces;
    const headers = this.headers;
    let total = 0;
    const add = (piece) => {
      pieces.push(piece);
      total += piece.length;
    };
    if (this.ctl.length > 0) add(this.ctl.view());
    while (this.adjusts.length > 0) {
      const c = this.adjusts.shift();
      c.adjustQueued = false;
      if (!c.sentClose && c.grant > 0) {
        const at2 = headers.reserve(9);
        putShortFrame(headers.bytes, at2, msgChannelWindowAdjust, c.remoteId, c.grant);
        add(headers.bytes.subarray(at2, at2 + 9));
      }
      c.grant = 0;
    }
    let budget = batchBudget;
    while (budget > 0 && this.ready.length > 0) {
      const c = this.ready.shift();
      c.readyQueued = false;
      if (c.ops.length === 0) continue;
      const op = c.ops.peek();
      if (op.data !== void 0) {
        if (c.sendWindow === 0) continue;
        const k = Math.min(op.data.length - op.sent, c.sendWindow, c.remoteMaxPacket, budget);
        const at2 = headers.reserve(9);
        putShortFrame(headers.bytes, at2, msgChannelData, c.remoteId, k);
        add(headers.bytes.subarray(at2, at2 + 9));
        add(op.data.subarray(op.sent, op.sent + k));
        op.sent += k;
        c.sendWindow -= k;
        budget -= k;
        if (op.sent === op.data.length) c.ops.shift().resolve();
      }
      if (c.ops.length > 0 && c.ops.peek().data === void 0) {
        const at2 = headers.reserve(5);
        putShortFrame(headers.bytes, at2, msgChannelEOF, c.remoteId);
        add(headers.bytes.subarray(at2, at2 + 5));
        c.ops.shift().resolve();
      }
      this.markReady(c);
    }
    const batch = new Uint8Array(total);
    let at = 0;
    for (const piece of pieces) {
      batch.set(piece, at);
      at += piece.length;
    }
    pieces.length = 0;
    headers.reset();
    this.ctl.reset();
    this.ctlData = 0;
    return batch;
  }
  // ---- the end ----
  /**
   * Ends the session: reason undefined for a local close or a clean end of
   * the stream, else the error. Every pending and later operation fails.
   * After a local close the writer first sends what was queued.
   */
  end(reason, local) {
    if (this.ended) return;
    this.ended = true;
    this.closedLocally = local;
    let err;
    if (reason === void 0) {
      err = new QtalkMuxError("session_closed", local ? void 0 : "qmux: connection closed by peer");
    } else if (reason instanceof QtalkMuxError && reason.kind === "session_closed") {
      err = reason;
    } else {
      err = new QtalkMuxError("session_closed", messageOf(reason), { cause: reason });
    }
    this.endReason = err;
    for (const opener of this.openers.values()) opener.reject(err);
    this.openers.clear();
    while (this.acceptWaiters.length > 0) this.acceptWaiters.shift().reject(err);
    for (const c of this.chans) c?.sessionEnded(err);
    this.settleDone(reason);
    if (local) {
      this.flushTimer = setTimeout(() => this.closeConn(), closeFlushTimeoutMs);
    } else {
      this.closeConn();
    }
    this.wake();
  }
  closeConn() {
    if (this.connClosed) return;
    this.connClosed = true;
    this.reader?.cancel().catch(() => {
    });
    try {
      this.conn.close();
    } catch {
    }
  }
};
var afterTurn = typeof globalThis.setImmediate === "function" ? (fn) => void globalThis.setImmediate(fn) : queueMicrotask;
function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

// node_modules/cborg/lib/is.js
var objectTypeNames = [
  "Object",
  // for Object.create(null) and other non-plain objects
  "RegExp",
  "Date",
  "Error",
  "Map",
  "Set",
  "WeakMap",
  "WeakSet",
  "ArrayBuffer",
  "SharedArrayBuffer",
  "DataView",
  "Promise",
  "URL",
  "HTMLElement",
  "Int8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
  "Tagged"
];
function is(value) {
  if (value === null) {
    return "null";
  }
  if (value === void 0) {
    return "undefined";
  }
  if (value === true || value === false) {
    return "boolean";
  }
  const typeOf = typeof value;
  if (typeOf === "string" || typeOf === "number" || typeOf === "bigint" || typeOf === "symbol") {
    return typeOf;
  }
  if (typeOf === "function") {
    return "Function";
  }
  if (Array.isArray(value)) {
    return "Array";
  }
  if (value instanceof Uint8Array) {
    return "Uint8Array";
  }
  if (value.constructor === Object) {
    return "Object";
  }
  const objectType = getObjectType(value);
  if (objectType) {
    return objectType;
  }
  return "Object";
}
function getObjectType(value) {
  const objectTypeName = Object.prototype.toString.call(value).slice(8, -1);
  if (objectTypeNames.includes(objectTypeName)) {
    return objectTypeName;
  }
  return void 0;
}

// node_modules/cborg/lib/token.js
var Type = class {
  /**
   * @param {number} major
   * @param {string} name
   * @param {boolean} terminal
   */
  constructor(major, name, terminal) {
    this.major = major;
    this.majorEncoded = major << 5;
    this.name = name;
    this.terminal = terminal;
  }
  toString() {
    return `Type[${this.major}].${this.name}`;
  }
  /**
   * @param {Type} typ
   * @returns {number}
   */
  compare(typ) {
    return this.major < typ.major ? -1 : this.major > typ.major ? 1 : 0;
  }
  /**
   * Check equality between two Type instances. Safe to use across different
   * copies of the Type class (e.g., when bundlers duplicate the module).
   * (major, name) uniquely identifies a Type; terminal is implied by these.
   * @param {Type} a
   * @param {Type} b
   * @returns {boolean}
   */
  static equals(a, b) {
    return a === b || a.major === b.major && a.name === b.name;
  }
};
Type.uint = new Type(0, "uint", true);
Type.negint = new Type(1, "negint", true);
Type.bytes = new Type(2, "bytes", true);
Type.string = new Type(3, "string", true);
Type.array = new Type(4, "array", false);
Type.map = new Type(5, "map", false);
Type.tag = new Type(6, "tag", false);
Type.float = new Type(7, "float", true);
Type.false = new Type(7, "false", true);
Type.true = new Type(7, "true", true);
Type.null = new Type(7, "null", true);
Type.undefined = new Type(7, "undefined", true);
Type.break = new Type(7, "break", true);
var Token = class {
  /**
   * @param {Type} type
   * @param {any} [value]
   * @param {number} [encodedLength]
   */
  constructor(type, value, encodedLength) {
    this.type = type;
    this.value = value;
    this.encodedLength = encodedLength;
    this.encodedBytes = void 0;
    this.byteValue = void 0;
  }
  toString() {
    return `Token[${this.type}].${this.value}`;
  }
};

// node_modules/cborg/lib/byte-utils.js
var useBuffer = globalThis.process && // @ts-ignore
!globalThis.process.browser && // @ts-ignore
globalThis.Buffer && // @ts-ignore
typeof globalThis.Buffer.isBuffer === "function";
var textEncoder = new TextEncoder();
function isBuffer(buf) {
  return useBuffer && globalThis.Buffer.isBuffer(buf);
}
function asU8A(buf) {
  if (!(buf instanceof Uint8Array)) {
    return Uint8Array.from(buf);
  }
  return isBuffer(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : buf;
}
var FROM_STRING_THRESHOLD_BUFFER = 24;
var FROM_STRING_THRESHOLD_TEXTENCODER = 200;
var fromString = useBuffer ? (
  // eslint-disable-line operator-linebreak
  /**
   * @param {string} string
   */
  (string) => {
    return string.length >= FROM_STRING_THRESHOLD_BUFFER ? (
      // eslint-disable-line operator-linebreak
      // @ts-ignore
      globalThis.Buffer.from(string)
    ) : utf8ToBytes(string);
  }
) : (
  // eslint-disable-line operator-linebreak
  /**
   * @param {string} string
   */
  (string) => {
    return string.length >= FROM_STRING_THRESHOLD_TEXTENCODER ? textEncoder.encode(string) : utf8ToBytes(string);
  }
);
var fromArray = (arr) => {
  return Uint8Array.from(arr);
};
var slice = useBuffer ? (
  // eslint-disable-line operator-linebreak
  /**
   * @param {Uint8Array} bytes
   * @param {number} start
   * @param {number} end
   */
  // Buffer.slice() returns a view, not a copy, so we need special handling
  (bytes, start, end) => {
    if (isBuffer(bytes)) {
      return new Uint8Array(bytes.subarray(start, end));
    }
    return bytes.slice(start, end);
  }
) : (
  // eslint-disable-line operator-linebreak
  /**
   * @param {Uint8Array} bytes
   * @param {number} start
   * @param {number} end
   */
  (bytes, start, end) => {
    return bytes.slice(start, end);
  }
);
var concat = useBuffer ? (
  // eslint-disable-line operator-linebreak
  /**
   * @param {ByteView[]} chunks
   * @param {number} length
   * @returns {AllocatedByteView}
   */
  (chunks, length) => {
    chunks = chunks.map((c) => c instanceof Uint8Array ? c : (
      // eslint-disable-line operator-linebreak
      // @ts-ignore
      globalThis.Buffer.from(c)
    ));
    return (
      /** @type {AllocatedByteView} */
      asU8A(globalThis.Buffer.concat(chunks, length))
    );
  }
) : (
  // eslint-disable-line operator-linebreak
  /**
   * @param {ByteView[]} chunks
   * @param {number} length
   * @returns {AllocatedByteView}
   */
  (chunks, length) => {
    const out = new Uint8Array(length);
    let off = 0;
    for (let b of chunks) {
      if (off + b.length > out.length) {
        b = b.subarray(0, out.length - off);
      }
      out.set(b, off);
      off += b.length;
    }
    return out;
  }
);
var alloc = useBuffer ? (
  // eslint-disable-line operator-linebreak
  /**
   * @param {number} size
   * @returns {AllocatedByteView}
   */
  (size) => {
    return globalThis.Buffer.allocUnsafe(size);
  }
) : (
  // eslint-disable-line operator-linebreak
  /**
   * @param {number} size
   * @returns {AllocatedByteView}
   */
  (size) => {
    return new Uint8Array(size);
  }
);
function compare(b1, b2) {
  if (isBuffer(b1) && isBuffer(b2)) {
    return b1.compare(b2);
  }
  for (let i = 0; i < b1.length; i++) {
    if (b1[i] === b2[i]) {
      continue;
    }
    return b1[i] < b2[i] ? -1 : 1;
  }
  return 0;
}
function utf8ToBytes(str) {
  const out = [];
  let p = 0;
  for (let i = 0; i < str.length; i++) {
    let c = str.charCodeAt(i);
    if (c < 128) {
      out[p++] = c;
    } else if (c < 2048) {
      out[p++] = c >> 6 | 192;
      out[p++] = c & 63 | 128;
    } else if ((c & 64512) === 55296 && i + 1 < str.length && (str.charCodeAt(i + 1) & 64512) === 56320) {
      c = 65536 + ((c & 1023) << 10) + (str.charCodeAt(++i) & 1023);
      out[p++] = c >> 18 | 240;
      out[p++] = c >> 12 & 63 | 128;
      out[p++] = c >> 6 & 63 | 128;
      out[p++] = c & 63 | 128;
    } else {
      if (c >= 55296 && c <= 57343) {
        c = 65533;
      }
      out[p++] = c >> 12 | 224;
      out[p++] = c >> 6 & 63 | 128;
      out[p++] = c & 63 | 128;
    }
  }
  return out;
}

// node_modules/cborg/lib/bl.js
var defaultChunkSize = 256;
var Bl = class {
  /**
   * @param {number} [chunkSize]
   */
  constructor(chunkSize = defaultChunkSize) {
    this.chunkSize = chunkSize;
    this.cursor = 0;
    this.maxCursor = -1;
    this.chunks = [];
    this._initReuseChunk = null;
  }
  reset() {
    this.cursor = 0;
    this.maxCursor = -1;
    if (this.chunks.length) {
      this.chunks = [];
    }
    if (this._initReuseChunk !== null) {
      this.chunks.push(this._initReuseChunk);
      this.maxCursor = this._initReuseChunk.length - 1;
    }
  }
  /**
   * @param {number} byte
   */
  pushByte(byte) {
    let topChunk = this.chunks[this.chunks.length - 1];
    if (this.cursor > this.maxCursor) {
      topChunk = alloc(this.chunkSize);
      this.chunks.push(topChunk);
      this.maxCursor += topChunk.length;
      if (this._initReuseChunk === null) {
        this._initReuseChunk = topChunk;
      }
    }
    const chunkPos = topChunk.length - (this.maxCursor - this.cursor) - 1;
    topChunk[chunkPos] = byte;
    this.cursor++;
  }
  /**
   * @param {ByteView|number[]} bytes
   */
  push(bytes) {
    let topChunk = this.chunks[this.chunks.length - 1];
    const newMax = this.cursor + bytes.length;
    if (newMax <= this.maxCursor + 1) {
      const chunkPos = topChunk.length - (this.maxCursor - this.cursor) - 1;
      topChunk.set(bytes, chunkPos);
    } else {
      if (topChunk) {
        const chunkPos = topChunk.length - (this.maxCursor - this.cursor) - 1;
        if (chunkPos < topChunk.length) {
          this.chunks[this.chunks.length - 1] = topChunk.subarray(0, chunkPos);
          this.maxCursor = this.cursor - 1;
        }
      }
      if (bytes.length < 64 && bytes.length < this.chunkSize) {
        topChunk = alloc(this.chunkSize);
        this.chunks.push(topChunk);
        this.maxCursor += topChunk.length;
        if (this._initReuseChunk === null) {
          this._initReuseChunk = topChunk;
        }
        topChunk.set(bytes, 0);
      } else {
        this.chunks.push(bytes);
        this.maxCursor += bytes.length;
      }
    }
    this.cursor += bytes.length;
  }
  /**
   * @param {boolean} [reset]
   * @returns {AllocatedByteView}
   */
  toBytes(reset = false) {
    let byts;
    if (this.chunks.length === 1) {
      const chunk = this.chunks[0];
      if (reset && this.cursor > chunk.length / 2) {
        byts = this.cursor === chunk.length ? chunk : chunk.subarray(0, this.cursor);
        this._initReuseChunk = null;
        this.chunks = [];
      } else {
        byts = slice(chunk, 0, this.cursor);
      }
    } else {
      byts = concat(this.chunks, this.cursor);
    }
    if (reset) {
      this.reset();
    }
    return byts;
  }
};
var U8Bl = class {
  /**
   * @param {Uint8Array<T>} dest
   */
  constructor(dest) {
    this.dest = dest;
    this.cursor = 0;
    this.chunks = [dest];
  }
  reset() {
    this.cursor = 0;
  }
  /**
   * @param {number} byte
   */
  pushByte(byte) {
    if (this.cursor >= this.dest.length) {
      throw new Error("write out of bounds, destination buffer is too small");
    }
    this.dest[this.cursor++] = byte;
  }
  /**
   * @param {ByteView|number[]} bytes
   */
  push(bytes) {
    if (this.cursor + bytes.length > this.dest.length) {
      throw new Error("write out of bounds, destination buffer is too small");
    }
    this.dest.set(bytes, this.cursor);
    this.cursor += bytes.length;
  }
  /**
   * @param {boolean} [reset]
   * @returns {Uint8Array<T>}
   */
  toBytes(reset = false) {
    const byts = this.dest.subarray(0, this.cursor);
    if (reset) {
      this.reset();
    }
    return byts;
  }
};

// node_modules/cborg/lib/common.js
var decodeErrPrefix = "CBOR decode error:";
var encodeErrPrefix = "CBOR encode error:";
var uintMinorPrefixBytes = [];
uintMinorPrefixBytes[23] = 1;
uintMinorPrefixBytes[24] = 2;
uintMinorPrefixBytes[25] = 3;
uintMinorPrefixBytes[26] = 5;
uintMinorPrefixBytes[27] = 9;
function assertEnoughData(data, pos, need) {
  if (data.length - pos < need) {
    throw new Error(`${decodeErrPrefix} not enough data for type`);
  }
}

// node_modules/cborg/lib/0uint.js
var uintBoundaries = [24, 256, 65536, 4294967296, BigInt("18446744073709551616")];
function readUint8(data, offset, options) {
  assertEnoughData(data, offset, 1);
  const value = data[offset];
  if (options.strict === true && value < uintBoundaries[0]) {
    throw new Error(`${decodeErrPrefix} integer encoded in more bytes than necessary (strict decode)`);
  }
  return value;
}
function readUint16(data, offset, options) {
  assertEnoughData(data, offset, 2);
  const value = data[offset] << 8 | data[offset + 1];
  if (options.strict === true && value < uintBoundaries[1]) {
    throw new Error(`${decodeErrPrefix} integer encoded in more bytes than necessary (strict decode)`);
  }
  return value;
}
function readUint322(data, offset, options) {
  assertEnoughData(data, offset, 4);
  const value = data[offset] * 16777216 + (data[offset + 1] << 16) + (data[offset + 2] << 8) + data[offset + 3];
  if (options.strict === true && value < uintBoundaries[2]) {
    throw new Error(`${decodeErrPrefix} integer encoded in more bytes than necessary (strict decode)`);
  }
  return value;
}
function readUint64(data, offset, options) {
  assertEnoughData(data, offset, 8);
  const hi = data[offset] * 16777216 + (data[offset + 1] << 16) + (data[offset + 2] << 8) + data[offset + 3];
  const lo = data[offset + 4] * 16777216 + (data[offset + 5] << 16) + (data[offset + 6] << 8) + data[offset + 7];
  const value = (BigInt(hi) << BigInt(32)) + BigInt(lo);
  if (options.strict === true && value < uintBoundaries[3]) {
    throw new Error(`${decodeErrPrefix} integer encoded in more bytes than necessary (strict decode)`);
  }
  if (value <= Number.MAX_SAFE_INTEGER) {
    return Number(value);
  }
  if (options.allowBigInt === true) {
    return value;
  }
  throw new Error(`${decodeErrPrefix} integers outside of the safe integer range are not supported`);
}
function decodeUint8(data, pos, _minor, options) {
  return new Token(Type.uint, readUint8(data, pos + 1, options), 2);
}
function decodeUint16(data, pos, _minor, options) {
  return new Token(Type.uint, readUint16(data, pos + 1, options), 3);
}
function decodeUint32(data, pos, _minor, options) {
  return new Token(Type.uint, readUint322(data, pos + 1, options), 5);
}
function decodeUint64(data, pos, _minor, options) {
  return new Token(Type.uint, readUint64(data, pos + 1, options), 9);
}
function encodeUint(writer, token) {
  return encodeUintValue(writer, 0, token.value);
}
function encodeUintValue(writer, major, uint) {
  if (uint < uintBoundaries[0]) {
    const nuint = Number(uint);
    writer.pushByte(major | nuint);
  } else if (uint < uintBoundaries[1]) {
    const nuint = Number(uint);
    writer.push([major | 24, nuint]);
  } else if (uint < uintBoundaries[2]) {
    const nuint = Number(uint);
    writer.push([major | 25, nuint >>> 8, nuint & 255]);
  } else if (uint < uintBoundaries[3]) {
    const nuint = Number(uint);
    writer.push([major | 26, nuint >>> 24 & 255, nuint >>> 16 & 255, nuint >>> 8 & 255, nuint & 255]);
  } else {
    const buint = BigInt(uint);
    if (buint < uintBoundaries[4]) {
      const set = [major | 27, 0, 0, 0, 0, 0, 0, 0];
      let lo = Number(buint & BigInt(4294967295));
      let hi = Number(buint >> BigInt(32) & BigInt(4294967295));
      set[8] = lo & 255;
      lo = lo >> 8;
      set[7] = lo & 255;
      lo = lo >> 8;
      set[6] = lo & 255;
      lo = lo >> 8;
      set[5] = lo & 255;
      set[4] = hi & 255;
      hi = hi >> 8;
      set[3] = hi & 255;
      hi = hi >> 8;
      set[2] = hi & 255;
      hi = hi >> 8;
      set[1] = hi & 255;
      writer.push(set);
    } else {
      throw new Error(`${decodeErrPrefix} encountered BigInt larger than allowable range`);
    }
  }
}
encodeUint.encodedSize = function encodedSize(token) {
  return encodeUintValue.encodedSize(token.value);
};
encodeUintValue.encodedSize = function encodedSize2(uint) {
  if (uint < uintBoundaries[0]) {
    return 1;
  }
  if (uint < uintBoundaries[1]) {
    return 2;
  }
  if (uint < uintBoundaries[2]) {
    return 3;
  }
  if (uint < uintBoundaries[3]) {
    return 5;
  }
  return 9;
};
encodeUint.compareTokens = function compareTokens(tok1, tok2) {
  return tok1.value < tok2.value ? -1 : tok1.value > tok2.value ? 1 : 0;
};

// node_modules/cborg/lib/1negint.js
function decodeNegint8(data, pos, _minor, options) {
  return new Token(Type.negint, -1 - readUint8(data, pos + 1, options), 2);
}
function decodeNegint16(data, pos, _minor, options) {
  return new Token(Type.negint, -1 - readUint16(data, pos + 1, options), 3);
}
function decodeNegint32(data, pos, _minor, options) {
  return new Token(Type.negint, -1 - readUint322(data, pos + 1, options), 5);
}
var neg1b = BigInt(-1);
var pos1b = BigInt(1);
function decodeNegint64(data, pos, _minor, options) {
  const int = readUint64(data, pos + 1, options);
  if (typeof int !== "bigint") {
    const value = -1 - int;
    if (value >= Number.MIN_SAFE_INTEGER) {
      return new Token(Type.negint, value, 9);
    }
  }
  if (options.allowBigInt !== true) {
    throw new Error(`${decodeErrPrefix} integers outside of the safe integer range are not supported`);
  }
  return new Token(Type.negint, neg1b - BigInt(int), 9);
}
function encodeNegint(writer, token) {
  const negint = token.value;
  const unsigned = typeof negint === "bigint" ? negint * neg1b - pos1b : negint * -1 - 1;
  encodeUintValue(writer, token.type.majorEncoded, unsigned);
}
encodeNegint.encodedSize = function encodedSize3(token) {
  const negint = token.value;
  const unsigned = typeof negint === "bigint" ? negint * neg1b - pos1b : negint * -1 - 1;
  if (unsigned < uintBoundaries[0]) {
    return 1;
  }
  if (unsigned < uintBoundaries[1]) {
    return 2;
  }
  if (unsigned < uintBoundaries[2]) {
    return 3;
  }
  if (unsigned < uintBoundaries[3]) {
    return 5;
  }
  return 9;
};
encodeNegint.compareTokens = function compareTokens2(tok1, tok2) {
  return tok1.value < tok2.value ? 1 : tok1.value > tok2.value ? -1 : 0;
};

// node_modules/cborg/lib/2bytes.js
function toToken(data, pos, prefix, length) {
  assertEnoughData(data, pos, prefix + length);
  const buf = data.slice(pos + prefix, pos + prefix + length);
  return new Token(Type.bytes, buf, prefix + length);
}
function decodeBytesCompact(data, pos, minor, _options) {
  return toToken(data, pos, 1, minor);
}
function decodeBytes8(data, pos, _minor, options) {
  return toToken(data, pos, 2, readUint8(data, pos + 1, options));
}
function decodeBytes16(data, pos, _minor, options) {
  return toToken(data, pos, 3, readUint16(data, pos + 1, options));
}
function decodeBytes32(data, pos, _minor, options) {
  return toToken(data, pos, 5, readUint322(data, pos + 1, options));
}
function decodeBytes64(data, pos, _minor, options) {
  const l = readUint64(data, pos + 1, options);
  if (typeof l === "bigint") {
    throw new Error(`${decodeErrPrefix} 64-bit integer bytes lengths not supported`);
  }
  return toToken(data, pos, 9, l);
}
function tokenBytes(token) {
  if (token.encodedBytes === void 0) {
    token.encodedBytes = Type.equals(token.type, Type.string) ? fromString(token.value) : token.value;
  }
  return token.encodedBytes;
}
function encodeBytes(writer, token) {
  const bytes = tokenBytes(token);
  encodeUintValue(writer, token.type.majorEncoded, bytes.length);
  writer.push(bytes);
}
encodeBytes.encodedSize = function encodedSize4(token) {
  const bytes = tokenBytes(token);
  return encodeUintValue.encodedSize(bytes.length) + bytes.length;
};
encodeBytes.compareTokens = function compareTokens3(tok1, tok2) {
  return compareBytes(tokenBytes(tok1), tokenBytes(tok2));
};
function compareBytes(b1, b2) {
  return b1.length < b2.length ? -1 : b1.length > b2.length ? 1 : compare(b1, b2);
}

// node_modules/cborg/lib/3string.js
var textDecoder = new TextDecoder();
var ASCII_THRESHOLD = 32;
function toStr(bytes, start, end) {
  const len = end - start;
  if (len < ASCII_THRESHOLD) {
    let str = "";
    for (let i = start; i < end; i++) {
      const c = bytes[i];
      if (c & 128) {
        return textDecoder.decode(bytes.subarray(start, end));
      }
      str += String.fromCharCode(c);
    }
    return str;
  }
  return textDecoder.decode(bytes.subarray(start, end));
}
function toToken2(data, pos, prefix, length, options) {
  const totLength = prefix + length;
  assertEnoughData(data, pos, totLength);
  const tok = new Token(Type.string, toStr(data, pos + prefix, pos + totLength), totLength);
  if (options.retainStringBytes === true) {
    tok.byteValue = data.slice(pos + prefix, pos + totLength);
  }
  return tok;
}
function decodeStringCompact(data, pos, minor, options) {
  return toToken2(data, pos, 1, minor, options);
}
function decodeString8(data, pos, _minor, options) {
  return toToken2(data, pos, 2, readUint8(data, pos + 1, options), options);
}
function decodeString16(data, pos, _minor, options) {
  return toToken2(data, pos, 3, readUint16(data, pos + 1, options), options);
}
function decodeString32(data, pos, _minor, options) {
  return toToken2(data, pos, 5, readUint322(data, pos + 1, options), options);
}
function decodeString64(data, pos, _minor, options) {
  const l = readUint64(data, pos + 1, options);
  if (typeof l === "bigint") {
    throw new Error(`${decodeErrPrefix} 64-bit integer string lengths not supported`);
  }
  return toToken2(data, pos, 9, l, options);
}
var encodeString = encodeBytes;

// node_modules/cborg/lib/4array.js
function toToken3(_data, _pos, prefix, length) {
  return new Token(Type.array, length, prefix);
}
function decodeArrayCompact(data, pos, minor, _options) {
  return toToken3(data, pos, 1, minor);
}
function decodeArray8(data, pos, _minor, options) {
  return toToken3(data, pos, 2, readUint8(data, pos + 1, options));
}
function decodeArray16(data, pos, _minor, options) {
  return toToken3(data, pos, 3, readUint16(data, pos + 1, options));
}
function decodeArray32(data, pos, _minor, options) {
  return toToken3(data, pos, 5, readUint322(data, pos + 1, options));
}
function decodeArray64(data, pos, _minor, options) {
  const l = readUint64(data, pos + 1, options);
  if (typeof l === "bigint") {
    throw new Error(`${decodeErrPrefix} 64-bit integer array lengths not supported`);
  }
  return toToken3(data, pos, 9, l);
}
function decodeArrayIndefinite(data, pos, _minor, options) {
  if (options.allowIndefinite === false) {
    throw new Error(`${decodeErrPrefix} indefinite length items not allowed`);
  }
  return toToken3(data, pos, 1, Infinity);
}
function encodeArray(writer, token) {
  encodeUintValue(writer, Type.array.majorEncoded, token.value);
}
encodeArray.compareTokens = encodeUint.compareTokens;
encodeArray.encodedSize = function encodedSize5(token) {
  return encodeUintValue.encodedSize(token.value);
};

// node_modules/cborg/lib/5map.js
function toToken4(_data, _pos, prefix, length) {
  return new Token(Type.map, length, prefix);
}
function decodeMapCompact(data, pos, minor, _options) {
  return toToken4(data, pos, 1, minor);
}
function decodeMap8(data, pos, _minor, options) {
  return toToken4(data, pos, 2, readUint8(data, pos + 1, options));
}
function decodeMap16(data, pos, _minor, options) {
  return toToken4(data, pos, 3, readUint16(data, pos + 1, options));
}
function decodeMap32(data, pos, _minor, options) {
  return toToken4(data, pos, 5, readUint322(data, pos + 1, options));
}
function decodeMap64(data, pos, _minor, options) {
  const l = readUint64(data, pos + 1, options);
  if (typeof l === "bigint") {
    throw new Error(`${decodeErrPrefix} 64-bit integer map lengths not supported`);
  }
  return toToken4(data, pos, 9, l);
}
function decodeMapIndefinite(data, pos, _minor, options) {
  if (options.allowIndefinite === false) {
    throw new Error(`${decodeErrPrefix} indefinite length items not allowed`);
  }
  return toToken4(data, pos, 1, Infinity);
}
function encodeMap(writer, token) {
  encodeUintValue(writer, Type.map.majorEncoded, token.value);
}
encodeMap.compareTokens = encodeUint.compareTokens;
encodeMap.encodedSize = function encodedSize6(token) {
  return encodeUintValue.encodedSize(token.value);
};

// node_modules/cborg/lib/6tag.js
function decodeTagCompact(_data, _pos, minor, _options) {
  return new Token(Type.tag, minor, 1);
}
function decodeTag8(data, pos, _minor, options) {
  return new Token(Type.tag, readUint8(data, pos + 1, options), 2);
}
function decodeTag16(data, pos, _minor, options) {
  return new Token(Type.tag, readUint16(data, pos + 1, options), 3);
}
function decodeTag32(data, pos, _minor, options) {
  return new Token(Type.tag, readUint322(data, pos + 1, options), 5);
}
function decodeTag64(data, pos, _minor, options) {
  return new Token(Type.tag, readUint64(data, pos + 1, options), 9);
}
function encodeTag(writer, token) {
  encodeUintValue(writer, Type.tag.majorEncoded, token.value);
}
encodeTag.compareTokens = encodeUint.compareTokens;
encodeTag.encodedSize = function encodedSize7(token) {
  return encodeUintValue.encodedSize(token.value);
};

// node_modules/cborg/lib/7float.js
var MINOR_FALSE = 20;
var MINOR_TRUE = 21;
var MINOR_NULL = 22;
var MINOR_UNDEFINED = 23;
function decodeUndefined(_data, _pos, _minor, options) {
  if (options.allowUndefined === false) {
    throw new Error(`${decodeErrPrefix} undefined values are not supported`);
  } else if (options.coerceUndefinedToNull === true) {
    return new Token(Type.null, null, 1);
  }
  return new Token(Type.undefined, void 0, 1);
}
function decodeBreak(_data, _pos, _minor, options) {
  if (options.allowIndefinite === false) {
    throw new Error(`${decodeErrPrefix} indefinite length items not allowed`);
  }
  return new Token(Type.break, void 0, 1);
}
function createToken(value, bytes, options) {
  if (options) {
    if (options.allowNaN === false && Number.isNaN(value)) {
      throw new Error(`${decodeErrPrefix} NaN values are not supported`);
    }
    if (options.allowInfinity === false && (value === Infinity || value === -Infinity)) {
      throw new Error(`${decodeErrPrefix} Infinity values are not supported`);
    }
  }
  return new Token(Type.float, value, bytes);
}
function decodeFloat16(data, pos, _minor, options) {
  return createToken(readFloat16(data, pos + 1), 3, options);
}
function decodeFloat32(data, pos, _minor, options) {
  return createToken(readFloat32(data, pos + 1), 5, options);
}
function decodeFloat64(data, pos, _minor, options) {
  return createToken(readFloat64(data, pos + 1), 9, options);
}
function encodeFloat(writer, token, options) {
  const float = token.value;
  if (float === false) {
    writer.pushByte(Type.float.majorEncoded | MINOR_FALSE);
  } else if (float === true) {
    writer.pushByte(Type.float.majorEncoded | MINOR_TRUE);
  } else if (float === null) {
    writer.pushByte(Type.float.majorEncoded | MINOR_NULL);
  } else if (float === void 0) {
    writer.pushByte(Type.float.majorEncoded | MINOR_UNDEFINED);
  } else {
    let decoded;
    let success = false;
    if (!options || options.float64 !== true) {
      encodeFloat16(float);
      decoded = readFloat16(ui8a, 1);
      if (float === decoded || Number.isNaN(float)) {
        ui8a[0] = 249;
        writer.push(ui8a.slice(0, 3));
        success = true;
      } else {
        encodeFloat32(float);
        decoded = readFloat32(ui8a, 1);
        if (float === decoded) {
          ui8a[0] = 250;
          writer.push(ui8a.slice(0, 5));
          success = true;
        }
      }
    }
    if (!success) {
      encodeFloat64(float);
      decoded = readFloat64(ui8a, 1);
      ui8a[0] = 251;
      writer.push(ui8a.slice(0, 9));
    }
  }
}
encodeFloat.encodedSize = function encodedSize8(token, options) {
  const float = token.value;
  if (float === false || float === true || float === null || float === void 0) {
    return 1;
  }
  if (!options || options.float64 !== true) {
    encodeFloat16(float);
    let decoded = readFloat16(ui8a, 1);
    if (float === decoded || Number.isNaN(float)) {
      return 3;
    }
    encodeFloat32(float);
    decoded = readFloat32(ui8a, 1);
    if (float === decoded) {
      return 5;
    }
  }
  return 9;
};
var buffer = new ArrayBuffer(9);
var dataView = new DataView(buffer, 1);
var ui8a = new Uint8Array(buffer, 0);
function encodeFloat16(inp) {
  if (inp === Infinity) {
    dataView.setUint16(0, 31744, false);
  } else if (inp === -Infinity) {
    dataView.setUint16(0, 64512, false);
  } else if (Number.isNaN(inp)) {
    dataView.setUint16(0, 32256, false);
  } else {
    dataView.setFloat32(0, inp);
    const valu32 = dataView.getUint32(0);
    const exponent = (valu32 & 2139095040) >> 23;
    const mantissa = valu32 & 8388607;
    if (exponent === 255) {
      dataView.setUint16(0, 31744, false);
    } else if (exponent === 0) {
      dataView.setUint16(0, (valu32 & 2147483648) >> 16 | mantissa >> 13, false);
    } else {
      const logicalExponent = exponent - 127;
      if (logicalExponent < -24) {
        dataView.setUint16(0, 0);
      } else if (logicalExponent < -14) {
        dataView.setUint16(0, (valu32 & 2147483648) >> 16 | /* sign bit */
        1 << 24 + logicalExponent, false);
      } else {
        dataView.setUint16(0, (valu32 & 2147483648) >> 16 | logicalExponent + 15 << 10 | mantissa >> 13, false);
      }
    }
  }
}
function readFloat16(ui8a2, pos) {
  if (ui8a2.length - pos < 2) {
    throw new Error(`${decodeErrPrefix} not enough data for float16`);
  }
  const half = (ui8a2[pos] << 8) + ui8a2[pos + 1];
  if (half === 31744) {
    return Infinity;
  }
  if (half === 64512) {
    return -Infinity;
  }
  if (half === 32256) {
    return NaN;
  }
  const exp = half >> 10 & 31;
  const mant = half & 1023;
  let val;
  if (exp === 0) {
    val = mant * 2 ** -24;
  } else if (exp !== 31) {
    val = (mant + 1024) * 2 ** (exp - 25);
  } else {
    val = mant === 0 ? Infinity : NaN;
  }
  return half & 32768 ? -val : val;
}
function encodeFloat32(inp) {
  dataView.setFloat32(0, inp, false);
}
function readFloat32(ui8a2, pos) {
  if (ui8a2.length - pos < 4) {
    throw new Error(`${decodeErrPrefix} not enough data for float32`);
  }
  const offset = (ui8a2.byteOffset || 0) + pos;
  return new DataView(ui8a2.buffer, offset, 4).getFloat32(0, false);
}
function encodeFloat64(inp) {
  dataView.setFloat64(0, inp, false);
}
function readFloat64(ui8a2, pos) {
  if (ui8a2.length - pos < 8) {
    throw new Error(`${decodeErrPrefix} not enough data for float64`);
  }
  const offset = (ui8a2.byteOffset || 0) + pos;
  return new DataView(ui8a2.buffer, offset, 8).getFloat64(0, false);
}
function encodeMajorSevenBytes(token, float64) {
  const float = token.value;
  if (float === false) {
    return Uint8Array.of(Type.float.majorEncoded | MINOR_FALSE);
  }
  if (float === true) {
    return Uint8Array.of(Type.float.majorEncoded | MINOR_TRUE);
  }
  if (float === null) {
    return Uint8Array.of(Type.float.majorEncoded | MINOR_NULL);
  }
  if (float === void 0) {
    return Uint8Array.of(Type.float.majorEncoded | MINOR_UNDEFINED);
  }
  if (!float64) {
    encodeFloat16(float);
    if (float === readFloat16(ui8a, 1) || Number.isNaN(float)) {
      ui8a[0] = 249;
      return ui8a.slice(0, 3);
    }
    encodeFloat32(float);
    if (float === readFloat32(ui8a, 1)) {
      ui8a[0] = 250;
      return ui8a.slice(0, 5);
    }
  }
  encodeFloat64(float);
  ui8a[0] = 251;
  return ui8a.slice(0, 9);
}
function majorSevenBytes(token, options) {
  const tokenEx = (
    /** @type {TokenEx} */
    token
  );
  const float64 = options?.float64 === true;
  const cached = float64 ? tokenEx._keyBytesFloat64 : tokenEx._keyBytes;
  if (cached !== void 0) {
    return cached;
  }
  const bytes = encodeMajorSevenBytes(token, float64);
  if (float64) {
    tokenEx._keyBytesFloat64 = bytes;
  } else {
    tokenEx._keyBytes = bytes;
  }
  return bytes;
}
encodeFloat.compareTokens = function compareTokens4(tok1, tok2, options) {
  const b1 = majorSevenBytes(tok1, options);
  const b2 = majorSevenBytes(tok2, options);
  if (b1.length !== b2.length) {
    return b1.length < b2.length ? -1 : 1;
  }
  return compare(b1, b2);
};

// node_modules/cborg/lib/jump.js
function invalidMinor(data, pos, minor) {
  throw new Error(`${decodeErrPrefix} encountered invalid minor (${minor}) for major ${data[pos] >>> 5}`);
}
function errorer(msg) {
  return () => {
    throw new Error(`${decodeErrPrefix} ${msg}`);
  };
}
var jump = [];
for (let i = 0; i <= 23; i++) {
  jump[i] = invalidMinor;
}
jump[24] = decodeUint8;
jump[25] = decodeUint16;
jump[26] = decodeUint32;
jump[27] = decodeUint64;
jump[28] = invalidMinor;
jump[29] = invalidMinor;
jump[30] = invalidMinor;
jump[31] = invalidMinor;
for (let i = 32; i <= 55; i++) {
  jump[i] = invalidMinor;
}
jump[56] = decodeNegint8;
jump[57] = decodeNegint16;
jump[58] = decodeNegint32;
jump[59] = decodeNegint64;
jump[60] = invalidMinor;
jump[61] = invalidMinor;
jump[62] = invalidMinor;
jump[63] = invalidMinor;
for (let i = 64; i <= 87; i++) {
  jump[i] = decodeBytesCompact;
}
jump[88] = decodeBytes8;
jump[89] = decodeBytes16;
jump[90] = decodeBytes32;
jump[91] = decodeBytes64;
jump[92] = invalidMinor;
jump[93] = invalidMinor;
jump[94] = invalidMinor;
jump[95] = errorer("indefinite length bytes/strings are not supported");
for (let i = 96; i <= 119; i++) {
  jump[i] = decodeStringCompact;
}
jump[120] = decodeString8;
jump[121] = decodeString16;
jump[122] = decodeString32;
jump[123] = decodeString64;
jump[124] = invalidMinor;
jump[125] = invalidMinor;
jump[126] = invalidMinor;
jump[127] = errorer("indefinite length bytes/strings are not supported");
for (let i = 128; i <= 151; i++) {
  jump[i] = decodeArrayCompact;
}
jump[152] = decodeArray8;
jump[153] = decodeArray16;
jump[154] = decodeArray32;
jump[155] = decodeArray64;
jump[156] = invalidMinor;
jump[157] = invalidMinor;
jump[158] = invalidMinor;
jump[159] = decodeArrayIndefinite;
for (let i = 160; i <= 183; i++) {
  jump[i] = decodeMapCompact;
}
jump[184] = decodeMap8;
jump[185] = decodeMap16;
jump[186] = decodeMap32;
jump[187] = decodeMap64;
jump[188] = invalidMinor;
jump[189] = invalidMinor;
jump[190] = invalidMinor;
jump[191] = decodeMapIndefinite;
for (let i = 192; i <= 215; i++) {
  jump[i] = decodeTagCompact;
}
jump[216] = decodeTag8;
jump[217] = decodeTag16;
jump[218] = decodeTag32;
jump[219] = decodeTag64;
jump[220] = invalidMinor;
jump[221] = invalidMinor;
jump[222] = invalidMinor;
jump[223] = invalidMinor;
for (let i = 224; i <= 243; i++) {
  jump[i] = errorer("simple values are not supported");
}
jump[244] = invalidMinor;
jump[245] = invalidMinor;
jump[246] = invalidMinor;
jump[247] = decodeUndefined;
jump[248] = errorer("simple values are not supported");
jump[249] = decodeFloat16;
jump[250] = decodeFloat32;
jump[251] = decodeFloat64;
jump[252] = invalidMinor;
jump[253] = invalidMinor;
jump[254] = invalidMinor;
jump[255] = decodeBreak;
var quick = [];
for (let i = 0; i < 24; i++) {
  quick[i] = new Token(Type.uint, i, 1);
}
for (let i = -1; i >= -24; i--) {
  quick[31 - i] = new Token(Type.negint, i, 1);
}
quick[64] = new Token(Type.bytes, new Uint8Array(0), 1);
quick[96] = new Token(Type.string, "", 1);
quick[128] = new Token(Type.array, 0, 1);
quick[160] = new Token(Type.map, 0, 1);
quick[244] = new Token(Type.false, false, 1);
quick[245] = new Token(Type.true, true, 1);
quick[246] = new Token(Type.null, null, 1);
function quickEncodeToken(token) {
  switch (token.type) {
    case Type.false:
      return fromArray([244]);
    case Type.true:
      return fromArray([245]);
    case Type.null:
      return fromArray([246]);
    case Type.bytes:
      if (!token.value.length) {
        return fromArray([64]);
      }
      return;
    case Type.string:
      if (token.value === "") {
        return fromArray([96]);
      }
      return;
    case Type.array:
      if (token.value === 0) {
        return fromArray([128]);
      }
      return;
    case Type.map:
      if (token.value === 0) {
        return fromArray([160]);
      }
      return;
    case Type.uint:
      if (token.value < 24) {
        return fromArray([Number(token.value)]);
      }
      return;
    case Type.negint:
      if (token.value >= -24) {
        return fromArray([31 - Number(token.value)]);
      }
  }
}

// node_modules/cborg/lib/encode.js
var defaultEncodeOptions = {
  float64: false,
  mapSorter,
  quickEncodeToken
};
var rfc8949EncodeOptions = Object.freeze({
  mapSorter: rfc8949MapSorter,
  quickEncodeToken
});
function makeCborEncoders() {
  const encoders = [];
  encoders[Type.uint.major] = encodeUint;
  encoders[Type.negint.major] = encodeNegint;
  encoders[Type.bytes.major] = encodeBytes;
  encoders[Type.string.major] = encodeString;
  encoders[Type.array.major] = encodeArray;
  encoders[Type.map.major] = encodeMap;
  encoders[Type.tag.major] = encodeTag;
  encoders[Type.float.major] = encodeFloat;
  return encoders;
}
var cborEncoders = makeCborEncoders();
var defaultWriter = new Bl();
var Ref = class _Ref {
  /**
   * @param {object|any[]} obj
   * @param {Reference|undefined} parent
   */
  constructor(obj, parent) {
    this.obj = obj;
    this.parent = parent;
  }
  /**
   * @param {object|any[]} obj
   * @returns {boolean}
   */
  includes(obj) {
    let p = this;
    do {
      if (p.obj === obj) {
        return true;
      }
    } while (p = p.parent);
    return false;
  }
  /**
   * @param {Reference|undefined} stack
   * @param {object|any[]} obj
   * @returns {Reference}
   */
  static createCheck(stack, obj) {
    if (stack && stack.includes(obj)) {
      throw new Error(`${encodeErrPrefix} object contains circular references`);
    }
    return new _Ref(obj, stack);
  }
};
var simpleTokens = {
  null: new Token(Type.null, null),
  undefined: new Token(Type.undefined, void 0),
  true: new Token(Type.true, true),
  false: new Token(Type.false, false),
  emptyArray: new Token(Type.array, 0),
  emptyMap: new Token(Type.map, 0)
};
var typeEncoders = {
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  number(obj, _typ, _options, _refStack) {
    if (!Number.isInteger(obj) || !Number.isSafeInteger(obj)) {
      return new Token(Type.float, obj);
    } else if (obj >= 0) {
      return new Token(Type.uint, obj);
    } else {
      return new Token(Type.negint, obj);
    }
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  bigint(obj, _typ, _options, _refStack) {
    if (obj >= BigInt(0)) {
      return new Token(Type.uint, obj);
    } else {
      return new Token(Type.negint, obj);
    }
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  Uint8Array(obj, _typ, _options, _refStack) {
    return new Token(Type.bytes, obj);
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  string(obj, _typ, _options, _refStack) {
    return new Token(Type.string, obj);
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  boolean(obj, _typ, _options, _refStack) {
    return obj ? simpleTokens.true : simpleTokens.false;
  },
  /**
   * @param {any} _obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  null(_obj, _typ, _options, _refStack) {
    return simpleTokens.null;
  },
  /**
   * @param {any} _obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  undefined(_obj, _typ, _options, _refStack) {
    return simpleTokens.undefined;
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  ArrayBuffer(obj, _typ, _options, _refStack) {
    return new Token(Type.bytes, new Uint8Array(obj));
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  DataView(obj, _typ, _options, _refStack) {
    return new Token(Type.bytes, new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength));
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} options
   * @param {Reference} [refStack]
   * @returns {TokenOrNestedTokens}
   */
  Array(obj, _typ, options, refStack) {
    if (!obj.length) {
      if (options.addBreakTokens === true) {
        return [simpleTokens.emptyArray, new Token(Type.break)];
      }
      return simpleTokens.emptyArray;
    }
    refStack = Ref.createCheck(refStack, obj);
    const entries = [];
    let i = 0;
    for (const e of obj) {
      entries[i++] = objectToTokens(e, options, refStack);
    }
    if (options.addBreakTokens) {
      return [new Token(Type.array, obj.length), entries, new Token(Type.break)];
    }
    return [new Token(Type.array, obj.length), entries];
  },
  /**
   * @param {any} obj
   * @param {string} typ
   * @param {EncodeOptions} options
   * @param {Reference} [refStack]
   * @returns {TokenOrNestedTokens}
   */
  Object(obj, typ, options, refStack) {
    const isMap = typ !== "Object";
    const keys = isMap ? obj.keys() : Object.keys(obj);
    const maxLength = isMap ? obj.size : keys.length;
    let entries;
    if (maxLength) {
      entries = new Array(maxLength);
      refStack = Ref.createCheck(refStack, obj);
      const skipUndefined = !isMap && options.ignoreUndefinedProperties;
      let i = 0;
      for (const key of keys) {
        const value = isMap ? obj.get(key) : obj[key];
        if (skipUndefined && value === void 0) {
          continue;
        }
        entries[i++] = [
          objectToTokens(key, options, refStack),
          objectToTokens(value, options, refStack)
        ];
      }
      if (i < maxLength) {
        entries.length = i;
      }
    }
    if (!entries?.length) {
      if (options.addBreakTokens === true) {
        return [simpleTokens.emptyMap, new Token(Type.break)];
      }
      return simpleTokens.emptyMap;
    }
    sortMapEntries(entries, options);
    if (options.addBreakTokens) {
      return [new Token(Type.map, entries.length), entries, new Token(Type.break)];
    }
    return [new Token(Type.map, entries.length), entries];
  },
  /**
   * Encode a `Tagged` wrapper as a CBOR tag header followed by the encoded
   * form of the wrapped value. The value is recursively tokenised through
   * `objectToTokens()` so any registered `typeEncoders` apply to it.
   *
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} options
   * @param {Reference} [refStack]
   * @returns {TokenOrNestedTokens}
   */
  Tagged(obj, _typ, options, refStack) {
    return [
      new Token(Type.tag, obj.tag),
      objectToTokens(obj.value, options, refStack)
    ];
  }
};
typeEncoders.Map = typeEncoders.Object;
typeEncoders.Buffer = typeEncoders.Uint8Array;
for (const typ of "Uint8Clamped Uint16 Uint32 Int8 Int16 Int32 BigUint64 BigInt64 Float32 Float64".split(" ")) {
  typeEncoders[`${typ}Array`] = typeEncoders.DataView;
}
function objectToTokens(obj, options = {}, refStack) {
  const typ = is(obj);
  const customTypeEncoder = options && options.typeEncoders && /** @type {OptionalTypeEncoder} */
  options.typeEncoders[typ] || typeEncoders[typ];
  if (typeof customTypeEncoder === "function") {
    const tokens = customTypeEncoder(obj, typ, options, refStack);
    if (tokens != null) {
      return tokens;
    }
  }
  const typeEncoder = typeEncoders[typ];
  if (!typeEncoder) {
    throw new Error(`${encodeErrPrefix} unsupported type: ${typ}`);
  }
  return typeEncoder(obj, typ, options, refStack);
}
function sortMapEntries(entries, options) {
  const mapSorter2 = (
    /** @type {(e1: TokenOrNestedTokens, e2: TokenOrNestedTokens, options?: EncodeOptions) => number} */
    options.mapSorter
  );
  if (mapSorter2) {
    entries.sort((e1, e2) => mapSorter2(e1, e2, options));
  }
}
function mapSorter(e1, e2, options) {
  const keyToken1 = Array.isArray(e1[0]) ? e1[0][0] : e1[0];
  const keyToken2 = Array.isArray(e2[0]) ? e2[0][0] : e2[0];
  if (keyToken1.type.major !== keyToken2.type.major) {
    return keyToken1.type.compare(keyToken2.type);
  }
  const major = keyToken1.type.major;
  const tcmp = cborEncoders[major].compareTokens(keyToken1, keyToken2, options);
  if (tcmp === 0) {
    console.warn("WARNING: complex key types used, CBOR key sorting guarantees are gone");
  }
  return tcmp;
}
function rfc8949MapSorter(e1, e2) {
  if (e1[0] instanceof Token && e2[0] instanceof Token) {
    const t1 = (
      /** @type {TokenEx} */
      e1[0]
    );
    const t2 = (
      /** @type {TokenEx} */
      e2[0]
    );
    if (!t1._keyBytes) {
      t1._keyBytes = encodeRfc8949(t1.value);
    }
    if (!t2._keyBytes) {
      t2._keyBytes = encodeRfc8949(t2.value);
    }
    return compare(t1._keyBytes, t2._keyBytes);
  }
  throw new Error("rfc8949MapSorter: complex key types are not supported yet");
}
function encodeRfc8949(data) {
  return encodeCustom(data, cborEncoders, rfc8949EncodeOptions);
}
function tokensToEncoded(writer, tokens, encoders, options) {
  if (Array.isArray(tokens)) {
    for (const token of tokens) {
      tokensToEncoded(writer, token, encoders, options);
    }
  } else {
    encoders[tokens.type.major](writer, tokens, options);
  }
}
var MAJOR_UINT = Type.uint.majorEncoded;
var MAJOR_NEGINT = Type.negint.majorEncoded;
var MAJOR_BYTES = Type.bytes.majorEncoded;
var MAJOR_STRING = Type.string.majorEncoded;
var MAJOR_ARRAY = Type.array.majorEncoded;
var MAJOR_MAP = Type.map.majorEncoded;
var SIMPLE_FALSE = Type.float.majorEncoded | MINOR_FALSE;
var SIMPLE_TRUE = Type.float.majorEncoded | MINOR_TRUE;
var SIMPLE_NULL = Type.float.majorEncoded | MINOR_NULL;
var SIMPLE_UNDEFINED = Type.float.majorEncoded | MINOR_UNDEFINED;
var neg1b2 = BigInt(-1);
var pos1b2 = BigInt(1);
function directEncodeUintValue(writer, major, uint) {
  if (uint < 24) {
    writer.pushByte(major | Number(uint));
  } else {
    encodeUintValue(writer, major, uint);
  }
}
function canDirectEncode(options) {
  return options.addBreakTokens !== true;
}
function directEncodeMap(writer, data, typ, options, refStack) {
  const isMap = typ === "Map";
  const keys = isMap ? data.keys() : Object.keys(data);
  const maxLength = isMap ? data.size : keys.length;
  if (!maxLength) {
    writer.pushByte(MAJOR_MAP);
    return;
  }
  refStack = Ref.createCheck(refStack, data);
  const skipUndefined = !isMap && options.ignoreUndefinedProperties;
  const entries = new Array(maxLength);
  let length = 0;
  for (const key of keys) {
    const value = isMap ? data.get(key) : data[key];
    if (skipUndefined && value === void 0) {
      continue;
    }
    entries[length++] = [objectToTokens(key, options, refStack), value];
  }
  if (length === 0) {
    writer.pushByte(MAJOR_MAP);
    return;
  }
  if (length < maxLength) {
    entries.length = length;
  }
  entries.sort((e1, e2) => mapSorter(e1, e2, options));
  directEncodeUintValue(writer, MAJOR_MAP, length);
  for (const [key, value] of entries) {
    tokensToEncoded(writer, key, cborEncoders, options);
    directEncode(writer, value, options, refStack);
  }
}
function directEncode(writer, data, options, refStack) {
  const typ = is(data);
  const customEncoder = options.typeEncoders && options.typeEncoders[typ];
  if (customEncoder) {
    const tokens = customEncoder(data, typ, options, refStack);
    if (tokens != null) {
      tokensToEncoded(writer, tokens, cborEncoders, options);
      return;
    }
  }
  switch (typ) {
    case "null":
      writer.pushByte(SIMPLE_NULL);
      return;
    case "undefined":
      writer.pushByte(SIMPLE_UNDEFINED);
      return;
    case "boolean":
      writer.pushByte(data ? SIMPLE_TRUE : SIMPLE_FALSE);
      return;
    case "number":
      if (!Number.isInteger(data) || !Number.isSafeInteger(data)) {
        encodeFloat(writer, new Token(Type.float, data), options);
      } else if (data >= 0) {
        directEncodeUintValue(writer, MAJOR_UINT, data);
      } else {
        directEncodeUintValue(writer, MAJOR_NEGINT, data * -1 - 1);
      }
      return;
    case "bigint":
      if (data >= BigInt(0)) {
        directEncodeUintValue(writer, MAJOR_UINT, data);
      } else {
        directEncodeUintValue(writer, MAJOR_NEGINT, data * neg1b2 - pos1b2);
      }
      return;
    case "string": {
      const bytes = fromString(data);
      directEncodeUintValue(writer, MAJOR_STRING, bytes.length);
      writer.push(bytes);
      return;
    }
    case "Uint8Array":
      directEncodeUintValue(writer, MAJOR_BYTES, data.length);
      writer.push(data);
      return;
    case "Array":
      if (!data.length) {
        writer.pushByte(MAJOR_ARRAY);
        return;
      }
      refStack = Ref.createCheck(refStack, data);
      directEncodeUintValue(writer, MAJOR_ARRAY, data.length);
      for (const elem of data) {
        directEncode(writer, elem, options, refStack);
      }
      return;
    case "Object":
    case "Map":
      if (options.mapSorter === mapSorter) {
        directEncodeMap(writer, data, typ, options, refStack);
      } else {
        const tokens = typeEncoders.Object(data, typ, options, refStack);
        tokensToEncoded(writer, tokens, cborEncoders, options);
      }
      return;
    default: {
      const typeEncoder = typeEncoders[typ];
      if (!typeEncoder) {
        throw new Error(`${encodeErrPrefix} unsupported type: ${typ}`);
      }
      const tokens = typeEncoder(data, typ, options, refStack);
      tokensToEncoded(writer, tokens, cborEncoders, options);
    }
  }
}
function encodeCustom(data, encoders, options, destination) {
  const hasDest = destination instanceof Uint8Array;
  let writeTo = hasDest ? new U8Bl(destination) : defaultWriter;
  const tokens = objectToTokens(data, options);
  if (!Array.isArray(tokens) && options.quickEncodeToken) {
    const quickBytes = options.quickEncodeToken(tokens);
    if (quickBytes) {
      if (hasDest) {
        writeTo.push(quickBytes);
        return writeTo.toBytes();
      }
      return quickBytes;
    }
    const encoder = encoders[tokens.type.major];
    if (encoder.encodedSize) {
      const size = encoder.encodedSize(tokens, options);
      if (!hasDest) {
        writeTo = new Bl(size);
      }
      encoder(writeTo, tokens, options);
      if (writeTo.chunks.length !== 1) {
        throw new Error(`Unexpected error: pre-calculated length for ${tokens} was wrong`);
      }
      return hasDest ? writeTo.toBytes() : asU8A(writeTo.chunks[0]);
    }
  }
  writeTo.reset();
  tokensToEncoded(writeTo, tokens, encoders, options);
  return writeTo.toBytes(true);
}
function encode(data, options) {
  options = Object.assign({}, defaultEncodeOptions, options);
  if (canDirectEncode(options)) {
    defaultWriter.reset();
    directEncode(defaultWriter, data, options, void 0);
    return defaultWriter.toBytes(true);
  }
  return encodeCustom(data, cborEncoders, options);
}

// node_modules/cborg/lib/tagged.js
var Tagged = class _Tagged {
  /**
   * @param {number} tag - CBOR tag number, a non-negative integer
   * @param {any} value - The value to be tagged; encoded recursively
   */
  constructor(tag, value) {
    if (typeof tag !== "number" || !Number.isInteger(tag) || tag < 0) {
      throw new TypeError("Tagged: tag must be a non-negative integer");
    }
    this.tag = tag;
    this.value = value;
  }
  /**
   * Build a tag decoder for use in `decode()`'s `tags` option that returns the
   * decoded content wrapped in a `Tagged` instance, preserving the tag number
   * for the caller to inspect.
   *
   * @param {number} tag - The CBOR tag number this decoder will be registered for
   * @returns {TaggedTagDecoder}
   *
   * @example
   * import { decode, Tagged } from 'cborg'
   * const value = decode(bytes, { tags: { 16: Tagged.decoder(16) } })
   * // value instanceof Tagged; value.tag === 16
   */
  static decoder(tag) {
    return (decode2) => new _Tagged(tag, decode2());
  }
  /**
   * Build a `tags` option for `decode()` that wraps each listed tag number in
   * a `Tagged` instance, preserving those tags through decode without
   * registering a dedicated decoder per tag.
   *
   * @param {...number} tagNumbers - One or more CBOR tag numbers to preserve
   * @returns {{[tagNumber: number]: TaggedTagDecoder}}
   *
   * @example
   * import { decode, Tagged } from 'cborg'
   * const value = decode(bytes, { tags: Tagged.preserve(16, 96) })
   */
  static preserve(...tagNumbers) {
    const tags = {};
    for (const tag of tagNumbers) {
      tags[tag] = _Tagged.decoder(tag);
    }
    return tags;
  }
};
Object.defineProperty(Tagged.prototype, Symbol.toStringTag, {
  value: "Tagged"
});

// src/rpc/cbor.ts
var maxCBORDepth = 32;
var maxCBORElements = 131072;
var maxCBORContainers = 262144;
var CBORSimple = class {
  constructor(value) {
    this.value = value;
  }
  value;
};
var CBORDecodeError = class extends Error {
  constructor(message, offset) {
    super(`cbor: ${message} at offset ${offset}`);
    this.offset = offset;
    this.name = "CBORDecodeError";
  }
  offset;
};
var utf8 = new TextDecoder("utf-8", { fatal: true });
var breakMark = /* @__PURE__ */ Symbol("break");
var maxSafeHi = 2 ** 21;
function decodeCBOR(b) {
  if (b.length === 0) throw new CBORDecodeError("empty payload", 0);
  const d = new Decoder(b);
  const v = d.item(0);
  if (v === breakMark) throw new CBORDecodeError("break outside an indefinite-length item", 0);
  if (d.pos !== b.length) throw new CBORDecodeError(`${b.length - d.pos} bytes after the value`, d.pos);
  return v;
}
var Decoder = class {
  constructor(b) {
    this.b = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  b;
  pos = 0;
  containers = 0;
  view;
  fail(message, at = this.pos) {
    throw new CBORDecodeError(message, at);
  }
  need(n) {
    if (this.b.length - this.pos < n) this.fail("unexpected end of data");
  }
  /** Reads the argument of a head with additional information info: a number, or a bigint beyond 2^53. */
  argument(info) {
    if (info < 24) return info;
    switch (info) {
      case 24:
        this.need(1);
        return this.b[this.pos++];
      case 25: {
        this.need(2);
        const v = this.view.getUint16(this.pos);
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4);
        const v = this.view.getUint32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const hi = this.view.getUint32(this.pos);
        const lo = this.view.getUint32(this.pos + 4);
        this.pos += 8;
        return hi < maxSafeHi ? hi * 2 ** 32 + lo : BigInt(hi) << 32n | BigInt(lo);
      }
    }
    return this.fail(`reserved additional information ${info}`, this.pos - 1);
  }
  /** A length or count: must fit what is left of the payload at minBytes per element. */
  count(info, minBytes, what) {
    const at = this.pos - 1;
    const n = this.argument(info);
    if (typeof n === "bigint" || n * minBytes > this.b.length - this.pos) {
      this.fail(`${what} of ${n} overruns the payload`, at);
    }
    return n;
  }
  enter(depth) {
    if (depth >= maxCBORDepth) this.fail(`nesting deeper than ${maxCBORDepth}`);
    if (++this.containers > maxCBORContainers) this.fail(`more than ${maxCBORContainers} arrays, maps and tags`);
  }
  item(depth) {
    this.need(1);
    const at = this.pos;
    const ib = this.b[this.pos++];
    const major = ib >> 5;
    const info = ib & 31;
    switch (major) {
      case 0:
        return this.argument(info);
      case 1: {
        const n = this.argument(info);
        if (typeof n === "number" && n < Number.MAX_SAFE_INTEGER) return -1 - n;
        return -1n - BigInt(n);
      }
      case 2:
        return info === 31 ? this.indefiniteString(2) : this.bytes(this.count(info, 1, "byte string")).slice();
      case 3:
        return info === 31 ? this.indefiniteString(3) : this.text(this.count(info, 1, "text string"), at);
      case 4:
        return this.array(info, depth);
      case 5:
        return this.map(info, depth);
      case 6:
        return this.tag(info, depth, at);
      default:
        return this.simple(info, at);
    }
  }
  bytes(n) {
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  text(n, at) {
    const b = this.bytes(n);
    if (n < 32) {
      let ascii = true;
      for (let i = 0; i < n; i++) if (b[i] >= 128) ascii = false;
      if (ascii) return String.fromCharCode(...b);
    }
    try {
      return utf8.decode(b);
    } catch (err) {
      throw Object.assign(new CBORDecodeError("invalid UTF-8 in a text string", at), { cause: err });
    }
  }
  indefiniteString(major) {
    const start = this.pos - 1;
    const chunks = [];
    let total = 0;
    for (; ; ) {
      this.need(1);
      const ib = this.b[this.pos++];
      if (ib === 255) break;
      if (ib >> 5 !== major || (ib & 31) === 31) this.fail("bad chunk in an indefinite-length string", this.pos - 1);
      const chunk = this.bytes(this.count(ib & 31, 1, "string chunk"));
      chunks.push(chunk);
      total += chunk.length;
    }
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    if (major === 2) return out;
    try {
      return utf8.decode(out);
    } catch (err) {
      throw Object.assign(new CBORDecodeError("invalid UTF-8 in a text string", start), { cause: err });
    }
  }
  array(info, depth) {
    this.enter(depth);
    const out = [];
    const n = info === 31 ? Infinity : this.count(info, 1, "array");
    for (let i = 0; i < n; i++) {
      if (i >= maxCBORElements) this.fail(`array of more than ${maxCBORElements} elements`);
      const v = this.item(depth + 1);
      if (v === breakMark) {
        if (n !== Infinity) this.fail("break inside a definite-length array", this.pos - 1);
        break;
      }
      out.push(v);
    }
    return out;
  }
  map(info, depth) {
    this.enter(depth);
    const n = info === 31 ? Infinity : this.count(info, 2, "map");
    let obj = {};
    let map;
    for (let i = 0; i < n; i++) {
      if (i >= maxCBORElements) this.fail(`map of more than ${maxCBORElements} pairs`);
      const keyAt = this.pos;
      const key = this.item(depth + 1);
      if (key === breakMark) {
        if (n !== Infinity) this.fail("break inside a definite-length map", this.pos - 1);
        break;
      }
      if (Array.isArray(key) || key instanceof Map || typeof key === "object" && key !== null && key.constructor === Object) {
        this.fail("an array or a map as a map key", keyAt);
      }
      const value = this.item(depth + 1);
      if (value === breakMark) this.fail("break between a map key and its value", this.pos - 1);
      if (obj !== void 0 && typeof key === "string") {
        Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
        continue;
      }
      if (map === void 0) map = new Map(Object.entries(obj ?? {}));
      obj = void 0;
      map.set(key, value);
    }
    return map ?? obj;
  }
  tag(info, depth, at) {
    const tag = this.argument(info);
    this.enter(depth);
    const content = this.item(depth + 1);
    if (content === breakMark) this.fail("break as tag content", this.pos - 1);
    switch (tag) {
      case 0:
        if (typeof content !== "string") this.fail("tag 0 content is not a text string", at);
        return new Date(content);
      case 1:
        if (typeof content !== "number" && typeof content !== "bigint") this.fail("tag 1 content is not a number", at);
        return new Date(Number(content) * 1e3);
      case 2:
      case 3: {
        if (!(content instanceof Uint8Array)) this.fail(`tag ${tag} content is not a byte string`, at);
        let n = 0n;
        for (const byte of content) n = n << 8n | BigInt(byte);
        if (tag === 3) n = -1n - n;
        return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
      }
      case 55799:
        return content;
    }
    if (typeof tag === "bigint") this.fail(`tag number ${tag} beyond 2^53`, at);
    return new Tagged(tag, content);
  }
  simple(info, at) {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
      case 23:
        return null;
      // undefined decodes like null, as in Go
      case 24: {
        this.need(1);
        const v = this.b[this.pos++];
        if (v < 32) this.fail(`simple value ${v} in two bytes`, at);
        return new CBORSimple(v);
      }
      case 25: {
        this.need(2);
        const v = halfToNumber(this.view.getUint16(this.pos));
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4);
        const v = this.view.getFloat32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        return v;
      }
      case 31:
        return breakMark;
    }
    if (info < 20) return new CBORSimple(info);
    return this.fail(`reserved additional information ${info}`, at);
  }
};
function halfToNumber(h) {
  const sign = h & 32768 ? -1 : 1;
  const exp = h >> 10 & 31;
  const frac = h & 1023;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

// src/rpc/errors.ts
var Code = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16
};
var codeNames = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated"
];
function codeName(code) {
  return codeNames[code] ?? `code_${code}`;
}
var noDetails = new Uint8Array(0);
var QtalkError = class extends Error {
  code;
  details;
  refused;
  constructor(code, message, options = {}) {
    super(message, options.cause === void 0 ? void 0 : { cause: options.cause });
    this.name = "QtalkError";
    this.code = code;
    this.details = options.details ?? noDetails;
    this.refused = options.refused ?? false;
  }
  /** The code's name: "not_found", "code_42". */
  get codeName() {
    return codeName(this.code);
  }
  toString() {
    return this.message === "" ? `rpc: ${this.codeName}` : `rpc: ${this.codeName}: ${this.message}`;
  }
};
var malformedPrefix = "rpc: malformed frame";
function malformed(detail, cause) {
  return new QtalkError(Code.InvalidArgument, `${malformedPrefix}: ${detail}`, { cause });
}
function codeOf(err) {
  if (err === void 0 || err === null) return Code.OK;
  for (let e = err, i = 0; i < 16 && e !== void 0; e = e?.cause, i++) {
    if (e instanceof QtalkError) return e.code;
    const name = e?.name;
    if (name === "TimeoutError") return Code.DeadlineExceeded;
    if (name === "AbortError") return Code.Canceled;
    if (!(e instanceof Error)) break;
  }
  if (isMuxError(err, "session_closed")) return Code.Unavailable;
  return Code.Unknown;
}
function abortCode(reason) {
  const code = codeOf(reason);
  return code === Code.Unknown || code === Code.OK ? Code.Canceled : code;
}
function abortError(what, reason) {
  if (reason instanceof QtalkError && (reason.code === Code.Canceled || reason.code === Code.DeadlineExceeded)) {
    return reason;
  }
  const why = reason instanceof Error ? reason.message : String(reason);
  return new QtalkError(abortCode(reason), `rpc: ${what}: ${why}`, { cause: reason });
}
function toQtalkError(err) {
  if (err instanceof QtalkError) return err;
  if (err instanceof Error) return new QtalkError(codeOf(err), err.message, { cause: err });
  return new QtalkError(Code.Internal, `handler threw ${String(err)}`, { cause: err });
}

// src/rpc/codec.ts
var nullToken = [new Token(Type.null, null)];
var cborEncodeOptions = {
  float64: true,
  // as Go sends float64s
  typeEncoders: { undefined: () => nullToken }
};
var CBOR = {
  name: "cbor",
  encode: (v) => encode(v, cborEncodeOptions),
  decode: decodeCBOR
};
var utf82 = new TextEncoder();
var utf8Decoder = new TextDecoder();
function base64(b) {
  let s = "";
  for (let i = 0; i < b.length; i += 32768) s += String.fromCharCode(...b.subarray(i, i + 32768));
  return btoa(s);
}
function jsonReplacer(_key, v) {
  if (v instanceof Uint8Array) return base64(v);
  if (typeof v === "bigint") {
    if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    throw new RangeError(`bigint ${v} does not fit a JSON number exactly`);
  }
  return v;
}
var JSON_ = {
  name: "json",
  encode: (v) => utf82.encode(JSON.stringify(v ?? null, jsonReplacer)),
  decode: (b) => JSON.parse(utf8Decoder.decode(b))
};
var codecs = /* @__PURE__ */ new Map([
  [CBOR.name, CBOR],
  [JSON_.name, JSON_]
]);
function codecByName(name) {
  const c = codecs.get(name);
  if (c === void 0) throw new QtalkError(Code.Unimplemented, `unknown codec ${JSON.stringify(name)}`);
  return c;
}
function decodeValue(c, payload) {
  try {
    return c.decode(payload);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new QtalkError(Code.InvalidArgument, `decode ${c.name} value: ${why}`, { cause: err });
  }
}
function encodeValue(c, v, code = Code.InvalidArgument) {
  try {
    return c.encode(v);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new QtalkError(code, `encode ${c.name} value: ${why}`, { cause: err });
  }
}

// src/rpc/raw.ts
var RawChannel = class {
  constructor(channel, frames) {
    this.channel = channel;
    this.frames = frames;
  }
  channel;
  frames;
  stream;
  get id() {
    return this.channel.id;
  }
  async read() {
    const pending = this.frames.takeBuffered();
    if (pending !== void 0) return pending;
    if (await this.frames.fill()) return this.frames.takeBuffered() ?? this.read();
    return null;
  }
  write(data) {
    return this.channel.write(data);
  }
  closeWrite() {
    return this.channel.closeWrite();
  }
  close() {
    return this.channel.close();
  }
  get readable() {
    this.stream ??= readableOf(this);
    return this.stream;
  }
  get writable() {
    return this.channel.writable;
  }
  [Symbol.asyncIterator]() {
    return chunksOf(this);
  }
};

// src/rpc/wire.ts
var FrameKind = {
  Call: 1,
  Reply: 2,
  Value: 3,
  Error: 4,
  End: 5,
  Cancel: 6
};
var frameHeaderLength = 5;
var defaultMaxFrameSize = 4 << 20;
var ReplyFlag = { Continue: 1, Error: 2, Refused: 4 };
var maxUvarintLength = 10;
var utf83 = new TextEncoder();
var utf8Decoder2 = new TextDecoder();
var FrameWriter = class {
  buf;
  view;
  length = 0;
  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }
  reserve(n) {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.length + n, 2 * this.buf.length));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  /** Starts a frame of kind; returns where it starts, for endFrame. */
  beginFrame(kind) {
    this.reserve(frameHeaderLength);
    const start = this.length;
    this.buf[start] = kind;
    this.length += frameHeaderLength;
    return start;
  }
  /** Sets the length of the frame begun at start to what was appended since. */
  endFrame(start) {
    this.view.setUint32(start + 1, this.length - start - frameHeaderLength);
  }
  byte(b) {
    this.reserve(1);
    this.buf[this.length++] = b;
  }
  /** Appends n, a non-negative integer, as a uvarint. */
  uvarint(n) {
    this.reserve(maxUvarintLength);
    while (n >= 128) {
      this.buf[this.length++] = n % 128 | 128;
      n = Math.floor(n / 128);
    }
    this.buf[this.length++] = n;
  }
  bytes(b) {
    this.uvarint(b.length);
    this.raw(b);
  }
  raw(b) {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  string(s) {
    const max = s.length * 3;
    this.reserve(maxUvarintLength + max);
    const at = this.length;
    const prefix = uvarintLength(max);
    const { written } = utf83.encodeInto(s, this.buf.subarray(at + prefix, at + prefix + max));
    const need = uvarintLength(written);
    if (need !== prefix) this.buf.copyWithin(at + need, at + prefix, at + prefix + written);
    this.uvarint(written);
    this.length += written;
  }
  /** Appends an error encoding. */
  error(e) {
    this.uvarint(e.code);
    this.string(e.message);
    this.bytes(e.details);
  }
  /** Appends a CALL payload. */
  callHeader(selector, codec, timeoutNs, metadata) {
    this.string(selector);
    this.string(codec);
    this.uvarint(timeoutNs);
    if (metadata === void 0) {
      this.uvarint(0);
      return;
    }
    const pairs = metadata instanceof Map ? metadata.entries() : Object.entries(metadata);
    const sizeAt = this.length;
    let count = 0;
    this.uvarint(0);
    const start = this.length;
    for (const [k, v] of pairs) {
      this.string(k);
      this.string(v);
      count++;
    }
    if (count < 128) {
      this.buf[sizeAt] = count;
      return;
    }
    const pairsBytes = this.buf.slice(start, this.length);
    this.length = sizeAt;
    this.uvarint(count);
    this.raw(pairsBytes);
  }
  /** Appends a REPLY payload: flags and, for an error, the error. */
  replyHeader(cont, err) {
    let flags = cont ? ReplyFlag.Continue : 0;
    if (err !== void 0) flags |= ReplyFlag.Error | (err.refused ? ReplyFlag.Refused : 0);
    this.byte(flags);
    if (err !== void 0) this.error(err);
  }
  /** The bytes appended so far; the writer starts over with a new buffer. */
  finish() {
    const out = this.buf.subarray(0, this.length);
    this.buf = new Uint8Array(this.buf.length);
    this.view = new DataView(this.buf.buffer);
    this.length = 0;
    return out;
  }
};
function uvarintLength(n) {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}
var HeaderReader = class {
  constructor(b) {
    this.b = b;
  }
  b;
  pos = 0;
  /** Whether the last uvarint read was 2^63 or more. */
  atLeast2p63 = false;
  get remaining() {
    return this.b.length - this.pos;
  }
  /**
   * Reads a uvarint as Go's binary.Uvarint does: at most 10 bytes, not
   * overflowing 64 bits. Values above 2^53 come back rounded.
   */
  uvarint() {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < maxUvarintLength; i++) {
      if (this.pos >= this.b.length) throw malformed("bad integer in header: truncated");
      const c = this.b[this.pos++];
      if (i === maxUvarintLength - 1 && c > 1) throw malformed("bad integer in header: overflows 64 bits");
      value += (c & 127) * scale;
      if (c < 128) {
        this.atLeast2p63 = i === maxUvarintLength - 1 && c === 1;
        return value;
      }
      scale *= 128;
    }
    throw malformed("bad integer in header: longer than 10 bytes");
  }
  byte() {
    if (this.pos >= this.b.length) throw malformed("header too short");
    return this.b[this.pos++];
  }
  /** Reads a length-prefixed byte string; the result aliases the payload. */
  bytes() {
    const n = this.uvarint();
    if (n > this.remaining) throw malformed(`string of ${n} bytes overruns the header`);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  string() {
    const b = this.bytes();
    return b.length === 0 ? "" : utf8Decoder2.decode(b);
  }
  error() {
    const code = this.uvarint() % 2 ** 32;
    const message = this.string();
    const details = this.bytes().slice();
    return { code, message, details };
  }
  /** Checks that nothing follows the last field. */
  end() {
    if (this.remaining !== 0) throw malformed(`${this.remaining} bytes after the header`);
  }
};
function parseCallHeader(p) {
  const r = new HeaderReader(p);
  const selector = r.string();
  const codec = r.string();
  const timeoutNs = r.uvarint();
  if (r.atLeast2p63) throw malformed("timeout out of range");
  const n = r.uvarint();
  if (n > r.remaining / 2) throw malformed(`${n} metadata pairs overrun the header`);
  const metadata = /* @__PURE__ */ new Map();
  for (let i = 0; i < n; i++) {
    const k = r.string();
    metadata.set(k, r.string());
  }
  r.end();
  return { selector, codec, timeoutNs, metadata };
}
function parseReplyHeader(p) {
  const r = new HeaderReader(p);
  const flags = r.byte();
  const known = ReplyFlag.Continue | ReplyFlag.Error | ReplyFlag.Refused;
  if ((flags & ~known) !== 0 || (flags & (ReplyFlag.Error | ReplyFlag.Refused)) === ReplyFlag.Refused) {
    throw malformed(`unknown reply flags 0x${flags.toString(16)}`);
  }
  if ((flags & ReplyFlag.Error) === 0) {
    r.end();
    return { cont: (flags & ReplyFlag.Continue) !== 0 };
  }
  const e = r.error();
  r.end();
  const error = new QtalkError(e.code, e.message, { details: e.details, refused: (flags & ReplyFlag.Refused) !== 0 });
  return { cont: (flags & ReplyFlag.Continue) !== 0, error };
}
function parseErrorPayload(p) {
  const r = new HeaderReader(p);
  const e = r.error();
  r.end();
  return new QtalkError(e.code, e.message, { details: e.details });
}
function errorReply(e) {
  const w = new FrameWriter(32 + e.message.length * 3 + e.details.length);
  const f = w.beginFrame(FrameKind.Reply);
  w.replyHeader(false, e);
  w.endFrame(f);
  return w.finish();
}
function errorFrame(kind, e) {
  const w = new FrameWriter(16 + e.message.length * 3 + e.details.length);
  const f = w.beginFrame(kind);
  w.error(e);
  w.endFrame(f);
  return w.finish();
}
var FrameReader = class {
  constructor(channel, maxFrameSize = defaultMaxFrameSize) {
    this.channel = channel;
    this.maxFrameSize = maxFrameSize;
  }
  channel;
  maxFrameSize;
  buf = new Uint8Array(0);
  start = 0;
  end = 0;
  /** Whether buf is ours to append to past end (not a chunk the channel gave). */
  owned = false;
  reading;
  eof = false;
  /** Bytes read and not consumed. */
  get buffered() {
    return this.end - this.start;
  }
  /** The kind byte of the next frame, if any of it was read. */
  peekKind() {
    return this.end > this.start ? this.buf[this.start] : void 0;
  }
  /** The first n buffered bytes, if that many are buffered; they stay buffered. */
  peek(n) {
    return this.end - this.start >= n ? this.buf.subarray(this.start, this.start + n) : void 0;
  }
  /** Whether the channel reached its end. */
  get ended() {
    return this.eof;
  }
  /**
   * Reads the next chunk into the buffer, sharing a read under way;
   * resolves false at the end of the channel. want is what the caller
   * needs buffered, a hint for sizing the buffer.
   */
  fill(want = 0) {
    if (this.eof) return Promise.resolve(false);
    this.reading ??= this.readChunk(want);
    return this.reading;
  }
  async readChunk(want) {
    try {
      const chunk = await this.channel.read();
      if (chunk === null) {
        this.eof = true;
        return false;
      }
      this.append(chunk, want);
      return true;
    } finally {
      this.reading = void 0;
    }
  }
  append(chunk, want) {
    const have = this.end - this.start;
    if (have === 0) {
      this.buf = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.owned = false;
      return;
    }
    if (this.owned && this.end + chunk.length <= this.buf.length) {
      this.buf.set(chunk, this.end);
      this.end += chunk.length;
      return;
    }
    const next = new Uint8Array(Math.max(have + chunk.length, want, 2 * have));
    next.set(this.buf.subarray(this.start, this.end));
    next.set(chunk, have);
    this.buf = next;
    this.start = 0;
    this.end = have + chunk.length;
    this.owned = true;
  }
  /**
   * Reads the next frame. Resolves null at the end of the channel at a
   * frame boundary; rejects with a malformed-frame error if the channel
   * ends inside a frame, with resource_exhausted for a frame over
   * maxFrameSize, and with the channel's error if a read fails.
   */
  async next() {
    while (this.end - this.start < frameHeaderLength) {
      if (!await this.fill(frameHeaderLength)) {
        if (this.end > this.start) throw malformed("stream ended inside a frame");
        return null;
      }
    }
    const b = this.buf;
    const s = this.start;
    const n = (b[s + 1] << 24 | b[s + 2] << 16 | b[s + 3] << 8 | b[s + 4]) >>> 0;
    if (n > this.maxFrameSize) {
      throw new QtalkError(Code.ResourceExhausted, `frame of ${n} bytes exceeds the limit of ${this.maxFrameSize}`);
    }
    const total = frameHeaderLength + n;
    while (this.end - this.start < total) {
      if (!await this.fill(total)) throw malformed("stream ended inside a frame");
    }
    const kind = this.buf[this.start];
    const payload = this.buf.subarray(this.start + frameHeaderLength, this.start + total);
    this.start += total;
    return { kind, payload };
  }
  /** Returns the bytes read past the last frame and forgets them. */
  takeBuffered() {
    if (this.end === this.start) return void 0;
    const out = this.buf.subarray(this.start, this.end);
    this.start = this.end = 0;
    this.buf = new Uint8Array(0);
    this.owned = false;
    return out;
  }
};

// src/rpc/client.ts
var defaultOpenAhead = 2;
var maxResends = 2;
function deadlineExceeded() {
  return new QtalkError(Code.DeadlineExceeded, "deadline exceeded");
}
var Client = class {
  session;
  codec;
  maxFrameSize;
  openAhead;
  /** Channels opened ahead of calls, at most openAhead. */
  ready = [];
  opening = 0;
  closed = false;
  constructor(session, options = {}) {
    this.session = session;
    this.codec = options.codec ?? CBOR;
    this.maxFrameSize = options.maxFrameSize ?? defaultMaxFrameSize;
    this.openAhead = Math.max(0, options.openAhead ?? defaultOpenAhead);
  }
  /**
   * Calls selector with args and resolves with the decoded reply value.
   * Rejects with a QtalkError: the server's error, or one of code canceled
   * or deadline_exceeded when the signal aborted or the timeout passed. A
   * reply that continues is closed once its value is read.
   */
  async call(selector, args, options) {
    const r = await this.start(selector, args, options);
    if (r.continued) await r.close();
    return r.value;
  }
  /**
   * Calls selector with args and resolves with the Response, which the
   * caller must close() if it continued (streams of values, or raw bytes
   * with conn()). The signal and timeout bound the whole call.
   */
  stream(selector, args, options) {
    return this.start(selector, args, options);
  }
  /** Stops keeping channels open ahead and closes those it holds. Calls still go on. */
  close() {
    this.closed = true;
    for (const ch of this.ready.splice(0)) void ch.close();
  }
  async start(selector, args, options = {}) {
    const codec = options.codec ?? this.codec;
    const signal = options.signal;
    if (signal?.aborted) throw abortError("call", signal.reason);
    const deadline = options.timeout === void 0 ? void 0 : performance.now() + Math.max(0, options.timeout);
    const value = encodeValue(codec, args);
    for (let resends = 0; ; resends++) {
      const { channel, pooled } = await this.channel(signal, deadline);
      const r = new Response(channel, codec, this.maxFrameSize, signal, deadline);
      try {
        await r.begin(selector, value, options.metadata);
        if (!r.continued) await r.close();
        return r;
      } catch (err) {
        await r.close();
        const resend = err instanceof QtalkError && err.refused || pooled && !r.sent;
        if (resend && resends < maxResends && !r.isAborted) continue;
        throw err;
      }
    }
  }
  /**
   * A channel for a call: one opened ahead if there is one, else a new
   * one, whose open the signal and the deadline bound.
   */
  async channel(signal, deadline) {
    const pooled = this.ready.pop();
    this.topUp();
    if (pooled !== void 0) return { channel: pooled, pooled: true };
    let bound = signal;
    let timer;
    let onAbort;
    if (deadline !== void 0) {
      const ac = new AbortController();
      bound = ac.signal;
      timer = setTimeout(() => ac.abort(deadlineExceeded()), Math.max(0, deadline - performance.now()));
      if (signal !== void 0) {
        onAbort = () => ac.abort(signal.reason);
        signal.addEventListener("abort", onAbort);
      }
    }
    try {
      return { channel: await this.session.open(bound ? { signal: bound } : void 0), pooled: false };
    } catch (err) {
      if (bound?.aborted) throw abortError("call", bound.reason);
      throw err;
    } finally {
      if (timer !== void 0) clearTimeout(timer);
      if (onAbort !== void 0) signal.removeEventListener("abort", onAbort);
    }
  }
  /** Starts opening channels until openAhead are ready or being opened. */
  topUp() {
    while (!this.closed && this.ready.length + this.opening < this.openAhead) {
      this.opening++;
      this.session.open().then(
        (ch) => {
          this.opening--;
          if (this.closed || this.ready.length >= this.openAhead) void ch.close();
          else this.ready.push(ch);
        },
        () => {
          this.opening--;
        }
      );
    }
  }
};
var Response = class {
  constructor(channel, codec, maxFrameSize, signal, deadline) {
    this.channel = channel;
    this.codec = codec;
    this.signal = signal;
    this.deadline = deadline;
    this.frames = new FrameReader(channel, maxFrameSize);
  }
  channel;
  codec;
  signal;
  deadline;
  /** The reply value. */
  value = void 0;
  /** Whether the call goes on after the reply. */
  continued = false;
  /** Whether any byte of the call was handed to the channel (a refused call is resent only if not). */
  sent = false;
  frames;
  raw = false;
  ended = false;
  closed = false;
  abortReason = void 0;
  aborted = false;
  timer;
  onAbort = () => this.abort(this.signal.reason);
  /** Whether the call's signal aborted or its deadline passed. */
  get isAborted() {
    return this.aborted;
  }
  /** Sends the call and reads the reply. */
  async begin(selector, value, metadata) {
    this.signal?.addEventListener("abort", this.onAbort);
    let timeoutNs = 0;
    if (this.deadline !== void 0) {
      const left = this.deadline - performance.now();
      timeoutNs = Math.max(1, Math.round(left * 1e6));
      this.timer = setTimeout(() => this.abort(deadlineExceeded()), Math.max(0, left));
    }
    const w = new FrameWriter(64 + selector.length * 3 + value.length);
    const call = w.beginFrame(FrameKind.Call);
    w.callHeader(selector, this.codec.name, timeoutNs, metadata);
    w.endFrame(call);
    const v = w.beginFrame(FrameKind.Value);
    w.raw(value);
    w.endFrame(v);
    let writeError;
    const written = this.channel.write(w.finish()).then(
      () => {
      },
      (err) => writeError = err
    );
    this.sent = true;
    try {
      const reply = await this.frames.next();
      if (reply === null) {
        await written;
        if (writeError !== void 0) throw writeError;
        throw new QtalkError(Code.Unavailable, "the server closed the call without replying");
      }
      if (reply.kind !== FrameKind.Reply) throw malformed(`got frame kind ${reply.kind}, want a reply header`);
      const { cont, error } = parseReplyHeader(reply.payload);
      if (error !== void 0) throw error;
      const first = await this.frames.next();
      if (first === null || first.kind !== FrameKind.Value) throw malformed("reply header without a value");
      this.value = decodeValue(this.codec, first.payload);
      this.continued = cont;
    } catch (err) {
      if (writeError !== void 0 && isChannelFailure(err)) {
        this.sent = false;
        throw writeError;
      }
      throw this.failure("call", err);
    }
  }
  /** The error to report for err: the abort's if the call was aborted. */
  failure(what, err) {
    return this.aborted ? abortError(what, this.abortReason) : err;
  }
  /** Ends the call for reason: a CANCEL frame if it is framed, then close. */
  abort(reason) {
    if (this.closed || this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    if (!this.raw) {
      const w = new FrameWriter(64);
      const f = w.beginFrame(FrameKind.Cancel);
      const message = reason instanceof Error ? reason.message : String(reason);
      w.error({ code: abortCode(reason), message, details: new Uint8Array(0) });
      w.endFrame(f);
      this.channel.write(w.finish()).catch(() => {
      });
    }
    void this.close();
  }
  /**
   * The next value the server sent: { done: true } after its last value
   * (END, or the channel's end at a frame boundary). Rejects with the
   * server's error if it ended the stream with one.
   */
  async receive() {
    if (this.ended) return { done: true, value: void 0 };
    try {
      const f = await this.frames.next();
      if (f === null || f.kind === FrameKind.End) {
        this.ended = true;
        return { done: true, value: void 0 };
      }
      switch (f.kind) {
        case FrameKind.Value:
          return { done: false, value: decodeValue(this.codec, f.payload) };
        case FrameKind.Error:
        case FrameKind.Cancel:
          this.ended = true;
          throw parseErrorPayload(f.payload);
      }
      throw malformed(`unexpected frame kind ${f.kind}`);
    } catch (err) {
      throw this.failure("receive", err);
    }
  }
  /** Sends v to the server on a continued call. */
  async send(v) {
    const value = encodeValue(this.codec, v);
    const w = new FrameWriter(frameHeaderBytes + value.length);
    const f = w.beginFrame(FrameKind.Value);
    w.raw(value);
    w.endFrame(f);
    try {
      await this.channel.write(w.finish());
    } catch (err) {
      throw this.failure("send", err);
    }
  }
  /** Tells the server that no more values follow (an END frame). */
  async closeSend() {
    try {
      await this.channel.write(endFrame());
    } catch (err) {
      throw this.failure("send", err);
    }
  }
  /** The call's channel as a raw byte stream, starting with the bytes that came after the reply value. */
  conn() {
    this.raw = true;
    return new RawChannel(this.channel, this.frames);
  }
  /** Ends the call and closes its channel. Idempotent. */
  async close() {
    if (this.closed) return;
    this.closed = true;
    this.signal?.removeEventListener("abort", this.onAbort);
    if (this.timer !== void 0) clearTimeout(this.timer);
    await this.channel.close();
  }
  async *[Symbol.asyncIterator]() {
    for (; ; ) {
      const r = await this.receive();
      if (r.done) return;
      yield r.value;
    }
  }
};
var frameHeaderBytes = 5;
function endFrame() {
  return Uint8Array.of(FrameKind.End, 0, 0, 0, 0);
}
function isChannelFailure(err) {
  return !(err instanceof QtalkError);
}

// src/rpc/server.ts
function callHandler(handler, r, call) {
  return typeof handler === "function" ? handler(r, call) : handler.respondRPC(r, call);
}
var deadlineSlack = 10;
function alreadyAnswered() {
  return new QtalkError(Code.FailedPrecondition, "rpc: call already answered");
}
var Call = class {
  /** @internal */
  constructor(frames, selector, metadata, codec, timeoutNs, args, caller) {
    this.frames = frames;
    this.selector = this.fullSelector = selector;
    this.metadata = metadata;
    this.codec = codec;
    this.args = args;
    this.caller = caller;
    if (timeoutNs > 0) {
      const ms = timeoutNs / 1e6;
      this.deadline = performance.now() + ms;
      this.timer = setTimeout(() => this.cancel(new QtalkError(Code.DeadlineExceeded, "deadline exceeded")), ms);
    }
  }
  frames;
  /** What is called; under a prefix pattern of a RespondMux, the part after the prefix. */
  selector;
  /** The selector as the client sent it. */
  fullSelector;
  /** The client's key/value pairs. */
  metadata;
  /** The codec of the call's values. */
  codec;
  /** A client over the same session, to call the client back (it must serve calls too, as peers do). */
  caller;
  /** The deadline the client gave (performance.now() time), if any. */
  deadline;
  /** @internal */
  mode = "framed";
  args;
  ended = false;
  controller;
  cancelReason;
  timer;
  watchWanted = false;
  watching = false;
  finished = false;
  /**
   * Aborts when the client cancels (CANCEL frame: reason with its code),
   * closes or half-closes the call at a frame boundary, the deadline
   * passes (deadline_exceeded), the session ends, or the handler returns.
   * The reason is a QtalkError of code canceled or deadline_exceeded.
   * Until it is first read, nobody watches the client for it.
   */
  get signal() {
    if (this.controller === void 0) {
      this.controller = new AbortController();
      if (this.cancelReason !== void 0) this.controller.abort(this.cancelReason);
      this.watchWanted = true;
      this.watch();
    }
    return this.controller.signal;
  }
  /** @internal Ends the call's signal with reason; later calls do nothing. */
  cancel(reason) {
    if (this.cancelReason !== void 0) return;
    this.cancelReason = reason;
    if (this.timer !== void 0) clearTimeout(this.timer);
    this.controller?.abort(reason);
  }
  /** @internal Why the call was cancelled, if it was. */
  get cancelled() {
    return this.cancelReason;
  }
  /** The client closed the call: counts as the deadline passing within deadlineSlack of it, as in Go. */
  clientClosed() {
    if (this.deadline !== void 0 && this.deadline - performance.now() < deadlineSlack) {
      this.cancel(new QtalkError(Code.DeadlineExceeded, "deadline exceeded"));
      return;
    }
    this.cancel(new QtalkError(Code.Canceled, "the client closed the call"));
  }
  /**
   * The next value from the client: first the call's arguments, then
   * streamed values; { done: true } once the client ended its stream.
   * Rejects with a QtalkError: invalid_argument for a value that does not
   * decode, canceled if the client cancelled or closed the call.
   */
  async receive() {
    if (this.args !== void 0) {
      const args = this.args;
      this.args = void 0;
      return { done: false, value: decodeValue(this.codec, args) };
    }
    if (this.ended) return { done: true, value: void 0 };
    if (this.mode === "undecided") this.mode = "framed";
    let f;
    try {
      f = await this.frames.next();
    } catch (err) {
      if (!(err instanceof QtalkError)) this.clientClosed();
      throw err;
    }
    if (f === null) {
      this.clientClosed();
      throw new QtalkError(Code.Canceled, "the client closed the call");
    }
    switch (f.kind) {
      case FrameKind.Value:
        this.watch();
        return { done: false, value: decodeValue(this.codec, f.payload) };
      case FrameKind.End:
        this.ended = true;
        this.watch();
        return { done: true, value: void 0 };
      case FrameKind.Cancel: {
        const reason = cancelReason(parseErrorPayload(f.payload));
        this.cancel(reason);
        throw reason;
      }
    }
    throw malformed(`unexpected frame kind ${f.kind} from the client`);
  }
  /** The call's arguments: the first value, if not received yet. */
  async receiveArgs() {
    const r = await this.receive();
    if (r.done) throw new QtalkError(Code.InvalidArgument, "the client sent no arguments");
    return r.value;
  }
  async *[Symbol.asyncIterator]() {
    for (; ; ) {
      const r = await this.receive();
      if (r.done) return;
      yield r.value;
    }
  }
  /**
   * @internal Starts watching the client for a CANCEL frame or the end of
   * the channel while at a frame boundary, if the signal was looked at.
   * It reads through the frame reader, so nothing it reads is lost to the
   * handler; it stops at the first frame that is not a CANCEL.
   */
  watch() {
    if (!this.watchWanted || this.watching || this.finished || this.mode === "raw") return;
    this.watching = true;
    this.watchLoop().then(
      () => this.watching = false,
      () => {
        this.watching = false;
        if (!this.finished && this.mode !== "raw") this.clientClosed();
      }
    );
  }
  async watchLoop() {
    for (; ; ) {
      if (this.finished || this.mode === "raw" || this.cancelReason !== void 0) return;
      const kind = this.frames.peekKind();
      if (kind === void 0) {
        const more = await this.frames.fill();
        if (this.finished || this.isRaw()) return;
        if (!more) {
          if (this.frames.buffered === 0) this.clientClosed();
          return;
        }
        if (this.mode === "undecided") return;
        continue;
      }
      if (kind !== FrameKind.Cancel || this.mode !== "framed") return;
      const reason = this.peekCancel();
      if (reason !== void 0) {
        this.cancel(reason);
        return;
      }
      if (!await this.frames.fill()) return;
    }
  }
  isRaw() {
    return this.mode === "raw";
  }
  /** The reason of the CANCEL frame at the head of the buffer, once it is whole. */
  peekCancel() {
    const head = this.frames.peek(frameHeaderLength);
    if (head === void 0) return void 0;
    const n = (head[1] << 24 | head[2] << 16 | head[3] << 8 | head[4]) >>> 0;
    if (n > this.frames.maxFrameSize) return new QtalkError(Code.Canceled, "the client closed the call");
    const frame = this.frames.peek(frameHeaderLength + n);
    if (frame === void 0) return void 0;
    try {
      return cancelReason(parseErrorPayload(frame.subarray(frameHeaderLength)));
    } catch {
      return new QtalkError(Code.Canceled, "the client closed the call");
    }
  }
  /** @internal The handler is done: no more watching; the signal aborts. */
  finish() {
    this.finished = true;
    if (this.timer !== void 0) clearTimeout(this.timer);
    this.cancel(new QtalkError(Code.Canceled, "the call ended"));
  }
};
function cancelReason(e) {
  const code = e.code === Code.DeadlineExceeded ? Code.DeadlineExceeded : Code.Canceled;
  return new QtalkError(code, e.message, { details: e.details });
}
var Reply = class {
  constructor(channel, call) {
    this.channel = channel;
    this.call = call;
  }
  channel;
  call;
  responded = false;
  continued = false;
  /** The last write: writes are ordered, so once it is handed over, all are. */
  lastWrite = Promise.resolve();
  write(b) {
    const w = this.channel.write(b);
    this.lastWrite = w.catch(() => {
    });
    return w;
  }
  reply(cont, v) {
    if (this.responded) return Promise.reject(alreadyAnswered());
    let value;
    try {
      value = encodeValue(this.call.codec, v ?? null, Code.Internal);
    } catch (err) {
      return this.error(err);
    }
    this.responded = true;
    const w = new FrameWriter(16 + value.length);
    const r = w.beginFrame(FrameKind.Reply);
    w.replyHeader(cont);
    w.endFrame(r);
    const f = w.beginFrame(FrameKind.Value);
    w.raw(value);
    w.endFrame(f);
    return this.write(w.finish());
  }
  return(v) {
    return this.reply(false, v);
  }
  continue(v) {
    if (this.responded) return Promise.reject(alreadyAnswered());
    this.call.mode = "undecided";
    const out = this.reply(true, v);
    if (this.responded) this.continued = true;
    else this.call.mode = "framed";
    this.call.watch();
    return out;
  }
  error(err) {
    const e = toQtalkError(err);
    if (this.continued) return this.write(errorFrame(FrameKind.Error, e));
    if (this.responded) return Promise.reject(alreadyAnswered());
    this.responded = true;
    return this.write(errorReply(e));
  }
  send(v) {
    if (!this.continued) return Promise.reject(new QtalkError(Code.FailedPrecondition, "rpc: send before continue"));
    if (this.call.mode === "undecided") {
      this.call.mode = "framed";
      this.call.watch();
    }
    let value;
    try {
      value = encodeValue(this.call.codec, v);
    } catch (err) {
      return Promise.reject(err);
    }
    const w = new FrameWriter(frameHeaderLength + value.length);
    const f = w.beginFrame(FrameKind.Value);
    w.raw(value);
    w.endFrame(f);
    return this.write(w.finish());
  }
  conn() {
    this.call.mode = "raw";
    return new RawChannel(this.channel, this.call.frames);
  }
};
function refusal() {
  return new QtalkError(Code.Unavailable, "the server is shutting down", { refused: true });
}
var Server = class {
  handler;
  maxFrameSize;
  callerOptions;
  constructor(handler, options = {}) {
    this.handler = handler;
    this.maxFrameSize = options.maxFrameSize ?? defaultMaxFrameSize;
    this.callerOptions = options.callerOptions;
  }
  /**
   * Serves the calls opened on session, each concurrently, until the
   * session ends or the signal aborts; resolves once the calls in flight
   * are done. It does not close the session.
   */
  async serveSession(session, options = {}) {
    const { signal } = options;
    const caller = options.caller ?? new Client(session, this.callerOptions);
    const state = { idle: /* @__PURE__ */ new Set(), calls: /* @__PURE__ */ new Set(), stopping: false };
    const served = /* @__PURE__ */ new Set();
    for (; ; ) {
      let ch;
      try {
        ch = await session.accept(signal ? { signal } : void 0);
      } catch {
        break;
      }
      const p = this.serveChannel(ch, caller, state).finally(() => served.delete(p));
      served.add(p);
    }
    if (signal?.aborted) {
      state.stopping = true;
      for (const ch of state.idle) void refuse(ch);
    } else {
      for (const call of state.calls) call.cancel(new QtalkError(Code.Canceled, "the session ended"));
    }
    await Promise.all(served);
    if (options.caller === void 0) caller.close();
  }
  async serveChannel(ch, caller, state) {
    const frames = new FrameReader(ch, this.maxFrameSize);
    state.idle.add(ch);
    let call;
    try {
      call = await this.readRequest(frames, caller);
    } catch (err) {
      if (state.idle.delete(ch) && err instanceof QtalkError) await ch.write(errorReply(err)).catch(() => {
      });
      await ch.close();
      return;
    } finally {
      state.idle.delete(ch);
    }
    if (state.stopping) {
      await refuse(ch);
      return;
    }
    state.calls.add(call);
    const r = new Reply(ch, call);
    try {
      const out = await callHandler(this.handler, r, call);
      if (!r.responded) await r.return(out);
    } catch (err) {
      if (!r.responded || r.continued) await r.error(err).catch(() => {
      });
    } finally {
      state.calls.delete(call);
    }
    const cut = call.cancelled;
    call.finish();
    if (cut !== void 0 && r.continued && call.mode !== "raw") {
      void r.error(cut).catch(() => {
      });
    }
    await r.lastWrite;
    await ch.close();
  }
  /** Reads the call header and the arguments (spec/rpc.md sections 4 and 10). */
  async readRequest(frames, caller) {
    const first = await frames.next();
    if (first === null) throw new QtalkError(Code.Canceled, "the client closed the channel before calling");
    if (first.kind !== FrameKind.Call) throw malformed(`got frame kind ${first.kind}, want a call header`);
    const h = parseCallHeader(first.payload);
    const codec = codecByName(h.codec);
    const args = await frames.next();
    if (args === null) throw malformed("the call ended before its arguments");
    if (args.kind !== FrameKind.Value) throw malformed(`got frame kind ${args.kind}, want the arguments`);
    return new Call(frames, h.selector, h.metadata, codec, h.timeoutNs, args.payload, caller);
  }
};
async function refuse(ch) {
  await ch.write(errorReply(refusal())).catch(() => {
  });
  await ch.close();
}

// src/rpc/respondmux.ts
function isPrefixPattern(pattern) {
  return pattern.endsWith("/") || pattern.endsWith(".") || pattern.endsWith(":");
}
var RespondMux = class {
  exact = /* @__PURE__ */ new Map();
  /** Longest first. */
  prefixes = [];
  /** Registers handler for pattern; throws a TypeError if pattern is empty or taken (a programming error). */
  handle(pattern, handler) {
    if (pattern === "") throw new TypeError("rpc: RespondMux.handle with an empty pattern");
    if (this.exact.has(pattern) || this.prefixes.some((e) => e.prefix === pattern)) {
      throw new TypeError(`rpc: RespondMux: pattern ${JSON.stringify(pattern)} registered twice`);
    }
    if (!isPrefixPattern(pattern)) {
      this.exact.set(pattern, handler);
      return this;
    }
    this.prefixes.push({ prefix: pattern, handler });
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
    return this;
  }
  /** Unregisters pattern, reporting whether it was registered. */
  remove(pattern) {
    if (this.exact.delete(pattern)) return true;
    const i = this.prefixes.findIndex((e) => e.prefix === pattern);
    if (i < 0) return false;
    this.prefixes.splice(i, 1);
    return true;
  }
  /** The handler for selector and the pattern it matched, if any. */
  match(selector) {
    const h = this.exact.get(selector);
    if (h !== void 0) return { handler: h, pattern: selector };
    for (const e of this.prefixes) {
      if (selector.startsWith(e.prefix)) return { handler: e.handler, pattern: e.prefix };
    }
    return void 0;
  }
  /** The registered patterns, sorted. */
  patterns() {
    return [...this.exact.keys(), ...this.prefixes.map((e) => e.prefix)].sort();
  }
  respondRPC(r, call) {
    const m = this.match(call.selector);
    if (m === void 0) {
      throw new QtalkError(Code.NotFound, `no handler for ${JSON.stringify(call.fullSelector)}`);
    }
    if (isPrefixPattern(m.pattern)) call.selector = call.selector.slice(m.pattern.length);
    return callHandler(m.handler, r, call);
  }
};

// src/rpc/peer.ts
var labelPing = "qtalk:ping";
async function servePing(_r, call) {
  const payload = await call.receiveArgs();
  const isBytes = payload instanceof Uint8Array || call.codec.name === "json" && typeof payload === "string";
  if (!isBytes) throw new QtalkError(Code.InvalidArgument, `${labelPing} takes a byte string`);
  return payload;
}
function pingPayload(size) {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = i % 251;
  return b;
}
var Peer = class {
  session;
  client;
  handler;
  /** Settles once the session ended and every handler returned. */
  served;
  constructor(session, options = {}) {
    this.session = session;
    const maxFrameSize = options.maxFrameSize;
    this.client = new Client(session, { ...maxFrameSize === void 0 ? {} : { maxFrameSize }, ...options.client });
    this.handler = options.handler ?? new RespondMux();
    const handler = this.handler;
    const respond = (r, call) => call.fullSelector === labelPing ? servePing(r, call) : callHandler(handler, r, call);
    const server = new Server(respond, maxFrameSize === void 0 ? {} : { maxFrameSize });
    this.served = server.serveSession(session, { caller: this.client });
  }
  /** A unary call (Client.call). */
  call(selector, args, options) {
    return this.client.call(selector, args, options);
  }
  /** A call that may continue (Client.stream). */
  stream(selector, args, options) {
    return this.client.stream(selector, args, options);
  }
  /**
   * Calls labelPing on the other side with a payload of size bytes and
   * resolves to the round trip in milliseconds: from just before the call
   * to its reply, which must carry the payload back unchanged (else a
   * data_loss error). The options bound the call as for call().
   */
  async ping(size, options) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`ping with a size of ${size}`);
    const payload = pingPayload(size);
    const start = performance.now();
    const echo = await this.client.call(labelPing, payload, options);
    const rtt = performance.now() - start;
    const codec = options?.codec ?? this.client.codec;
    const want = codec.encode(payload);
    const got = codec.encode(echo);
    if (got.length !== want.length || got.some((b, i) => b !== want[i])) {
      throw new QtalkError(Code.DataLoss, `${labelPing}: ${got.length} encoded bytes back for ${want.length} sent`);
    }
    return rtt;
  }
  /** Closes the session and waits for the handlers to return. */
  async close() {
    this.client.close();
    await this.session.close();
    await this.served;
  }
};

// src/label/label.ts
var maxLabelLength = 16 << 10;
var enc = new TextEncoder();
var dec = new TextDecoder();
var rawParamChars = new Set([..."-._~!$'()*+,;:@/?="].map((c) => c.charCodeAt(0)));

// src/transport/memory.ts
var defaultMemoryBufferSize = 64 << 10;

// src/transport/errors.ts
var TransportError = class extends Error {
  kind;
  constructor(kind, message, options) {
    super(message, options);
    this.name = "TransportError";
    this.kind = kind;
  }
};
function messageOf2(err) {
  return err instanceof Error ? err.message : String(err);
}

// src/transport/address.ts
var AddressError = class extends TransportError {
  /** The address as given. */
  address;
  /** What is wrong with it, naming the bad part (the same text as Go's). */
  reason;
  constructor(address, reason, kind = "bad_address") {
    super(kind, `transport: bad address ${goQuote(address)}: ${reason}`);
    this.name = "AddressError";
    this.address = address;
    this.reason = reason;
  }
};
var schemes = /* @__PURE__ */ new Map();
for (const [name, syntax, aliases] of [
  ["tcp", "hostport", []],
  ["unix", "path", []],
  ["tls", "url", []],
  ["ws", "web", ["websocket"]],
  ["wss", "web", []],
  ["stdio", "none", []],
  ["exec", "command", []]
]) {
  const entry = { name, syntax };
  schemes.set(name, entry);
  for (const alias of aliases) schemes.set(alias, entry);
}
function declareScheme(name, aliases) {
  for (const n of [name, ...aliases]) {
    if (!validScheme(n)) throw new TypeError(`transport: invalid scheme ${goQuote(n)}`);
  }
  const entry = schemes.get(name) ?? { name, syntax: "url" };
  for (const n of [name, ...aliases]) {
    const known = schemes.get(n);
    if (known !== void 0 && known !== entry) {
      throw new TypeError(`transport: scheme ${goQuote(n)} already stands for ${goQuote(known.name)}`);
    }
    schemes.set(n, entry);
  }
}
var shorthands = [
  ["$4", "127.0.0.1"],
  ["$6", "[::1]"],
  ["$n", "localhost"],
  ["*4", "0.0.0.0"],
  ["*6", "[::]"]
];
function parseAddress(s) {
  const bad = (reason) => new AddressError(s, reason);
  const i = s.search(/[:/]/);
  if (i < 0) throw bad("missing scheme (want scheme://... or scheme/...)");
  const scheme = s.slice(0, i).toLowerCase();
  if (!validScheme(scheme)) throw bad(`bad scheme ${goQuote(s.slice(0, i))}`);
  const entry = schemes.get(scheme);
  if (entry === void 0) throw new AddressError(s, `unknown scheme ${goQuote(scheme)}`, "unknown_scheme");
  const a = { scheme: entry.name, host: "", path: "", rawQuery: "", opaque: "", subport: "" };
  const compact = s[i] === "/";
  let rest = s.slice(i + 1);
  const j = rest.lastIndexOf("!");
  if (j >= 0) {
    const label = rest.slice(j + 1);
    if (validSubport(label)) {
      a.subport = label;
      rest = rest.slice(0, j);
    } else if (entry.syntax === "hostport" || entry.syntax === "none") {
      throw bad(`bad subport ${goQuote(label)}`);
    }
  }
  switch (entry.syntax) {
    case "none":
      if (compact) throw bad(`${scheme} has no compact form`);
      if (rest !== "") throw bad(`unexpected ${goQuote(rest)} after ${scheme}:`);
      break;
    case "command": {
      if (compact) throw bad(`${scheme} has no compact form`);
      const split = splitCommand(rest);
      if (typeof split === "string") throw bad(split);
      a.opaque = rest;
      break;
    }
    case "path":
      if (!compact && rest.startsWith("//")) {
        rest = rest.slice(2);
        if (rest !== "" && rest[0] !== "/") {
          throw bad(`unexpected host in ${scheme} address (want ${scheme}:///abs/path or ${scheme}:rel/path)`);
        }
      }
      if (rest === "") throw bad("empty path");
      if (rest.includes("\0")) throw bad("NUL in path");
      a.path = rest;
      break;
    default:
      if (!compact) {
        if (rest.startsWith("//")) {
          rest = rest.slice(2);
        } else if (entry.syntax === "url") {
          a.opaque = rest;
          return a;
        } else {
          throw bad(`missing // after ${scheme}:`);
        }
      }
      {
        const reason = parseHostPart(a, rest, entry.syntax);
        if (reason !== "") throw bad(reason);
      }
  }
  return a;
}
function formatAddress(a) {
  let s = a.scheme + ":";
  if (a.opaque !== "") {
    s += a.opaque;
  } else if (a.host === "" && a.path !== "" && !a.path.startsWith("/")) {
    s += a.path;
  } else if (a.host !== "" || a.path !== "" || a.rawQuery !== "") {
    s += "//" + a.host + a.path;
    if (a.rawQuery !== "") s += "?" + a.rawQuery;
  }
  if (a.subport !== "") s += "!" + a.subport;
  return s;
}
function splitCommand(s) {
  const args = [];
  let word = "";
  let inWord = false;
  let quote = "";
  for (const c of s) {
    if (quote !== "") {
      if (c === quote) quote = "";
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === " " || c === "	") {
      if (inWord) {
        args.push(word);
        word = "";
        inWord = false;
      }
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== "") return `unterminated ${quote} quote in command`;
  if (inWord) args.push(word);
  if (args.length === 0) return "empty command";
  return args;
}
function parseHostPart(a, s, syntax) {
  if (s.includes("#")) return "fragment (#) not supported";
  let authority = s;
  let tail = "";
  const k = s.search(/[/?]/);
  if (k >= 0) {
    authority = s.slice(0, k);
    tail = s.slice(k);
  }
  if (authority.includes("@")) return "user info (@) not supported";
  for (const [short, long] of shorthands) {
    if (authority === short || authority.startsWith(short + ":")) {
      authority = long + authority.slice(short.length);
      break;
    }
  }
  let host = authority;
  let port = "";
  let hasPort = false;
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    if (end < 0) return `missing ] in host ${goQuote(authority)}`;
    host = authority.slice(0, end + 1);
    const after = authority.slice(end + 1);
    if (after !== "") {
      if (after[0] !== ":") return `bad host ${goQuote(authority)}`;
      port = after.slice(1);
      hasPort = true;
    }
    if (!isIPv6(host.slice(1, -1))) return `bad IPv6 host ${goQuote(host)}`;
  } else {
    const colons = authority.split(":").length - 1;
    if (colons > 1) return `bad host ${goQuote(authority)} (an IPv6 host must be in brackets)`;
    if (colons === 1) {
      const c = authority.indexOf(":");
      host = authority.slice(0, c);
      port = authority.slice(c + 1);
      hasPort = true;
    }
    if (!/^[A-Za-z0-9._-]*$/.test(host)) return `bad host ${goQuote(host)}`;
  }
  if (hasPort && port === "") return `missing port after ${goQuote(host + ":")}`;
  if (hasPort) {
    const p = /^[0-9]{1,5}$/.test(port) ? Number(port) : NaN;
    if (!(p <= 65535)) return `bad port ${goQuote(port)}`;
    port = String(p);
  } else if (syntax === "hostport") {
    return host === "" ? "missing host and port" : `missing port in ${goQuote(host)}`;
  }
  if (host === "" && syntax === "web") return "missing host";
  let path = tail;
  let query = "";
  const q = tail.indexOf("?");
  if (q >= 0) {
    path = tail.slice(0, q);
    query = tail.slice(q + 1);
  }
  if (syntax === "hostport" && tail !== "") return `unexpected ${goQuote(tail)} after the port`;
  if (!validURLChars(path, false)) return `bad path ${goQuote(path)}`;
  if (!validURLChars(query, true)) return `bad query ${goQuote(query)}`;
  a.host = hasPort ? `${host}:${port}` : host;
  a.path = path;
  a.rawQuery = query;
  return "";
}
function validScheme(s) {
  return /^[a-z][a-z0-9+.-]*$/.test(s);
}
function validSubport(s) {
  return /^[A-Za-z0-9._-]+$/.test(s);
}
function validURLChars(s, query) {
  return (query ? /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/ : /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/).test(s);
}
function isIPv6(s) {
  const pct = s.indexOf("%");
  if (pct >= 0) {
    if (pct === s.length - 1) return false;
    s = s.slice(0, pct);
  }
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const groups = (half, last) => {
    if (half === "") return 0;
    const parts = half.split(":");
    let n = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (i === parts.length - 1 && part.includes(".")) {
        if (!last || !isIPv4(part)) return -1;
        n += 2;
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(part)) {
        n++;
      } else {
        return -1;
      }
    }
    return n;
  };
  const counts = halves.map((half, i) => groups(half, i === halves.length - 1));
  if (counts.some((n) => n < 0)) return false;
  const total = counts.reduce((x, y) => x + y, 0);
  return halves.length === 2 ? total < 8 : total === 8;
}
function isIPv4(s) {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^(?:0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}
function goQuote(s) {
  let out = '"';
  for (const c of s) {
    const code = c.codePointAt(0);
    if (c === '"' || c === "\\") out += "\\" + c;
    else if (c === "\n") out += "\\n";
    else if (c === "	") out += "\\t";
    else if (c === "\r") out += "\\r";
    else if (code < 32 || code === 127) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += c;
  }
  return out + '"';
}

// src/transport/registry.ts
var connectors = /* @__PURE__ */ new Map();
function registerConnector(scheme, connector, aliases = []) {
  declareScheme(scheme, aliases);
  connectors.set(scheme, connector);
}
async function dial(address, options = {}) {
  const a = parseAddress(address);
  resolveConfig(options.config);
  const connector = connectorOf(a, "dial");
  let conn;
  try {
    conn = await connector.dialConn(a, { signal: options.signal });
  } catch (err) {
    throw wrapSetupError(err, "dial", a, options.signal);
  }
  return new Session(conn, options.config);
}
function connectorOf(a, op) {
  const connector = connectors.get(a.scheme);
  if (connector === void 0) {
    const hint = ["tcp", "unix", "stdio", "exec"].includes(a.scheme) ? ` (in Node, import "@qtalkkit/qtalk/node")` : "";
    throw new TransportError(
      "unsupported",
      `transport: ${op} ${formatAddress(a)}: transport: unsupported operation: no connector for ${goQuote(a.scheme)} here${hint}`
    );
  }
  return connector;
}
function wrapSetupError(err, op, a, signal) {
  if (signal?.aborted && err === signal.reason) return err;
  return new TransportError(op, `transport: ${op} ${formatAddress(a)}: ${messageOf2(err)}`, { cause: err });
}

// src/transport/streams.ts
function feedReadable(source, highWaterMark) {
  let controller;
  let stream;
  let receiver;
  let early = [];
  let earlyBytes = 0;
  let earlyEnd;
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
  const makeStream = () => new ReadableStream(
    {
      start(c) {
        controller = c;
        for (const chunk of early) c.enqueue(chunk);
        if (earlyEnd?.err !== void 0) c.error(earlyEnd.err);
        else if (earlyEnd !== void 0) c.close();
        early = [];
      },
      pull() {
        resume();
      },
      cancel(reason) {
        finished = true;
        source.cancel(reason);
      }
    },
    new ByteLengthQueuingStrategy({ highWaterMark })
  );
  const finish = (err) => {
    if (finished) return;
    finished = true;
    if (receiver !== void 0) receiver.end(err);
    else if (controller === void 0) earlyEnd = { err };
    else if (err === void 0) controller.close();
    else controller.error(err);
  };
  return {
    get readable() {
      if (receiver !== void 0) throw new TypeError("transport: the feed was diverted");
      stream ??= makeStream();
      return stream;
    },
    push(chunk) {
      if (finished || chunk.length === 0) return;
      if (receiver !== void 0) return receiver.data(chunk);
      if (controller === void 0) {
        early.push(chunk);
        earlyBytes += chunk.length;
        if (earlyBytes >= highWaterMark) pause();
        return;
      }
      controller.enqueue(chunk);
      if ((controller.desiredSize ?? 0) <= 0) pause();
    },
    end() {
      finish(void 0);
    },
    fail(err) {
      if (!finished && controller === void 0) early = [];
      finish(err);
    },
    divert(r) {
      if (stream !== void 0 || receiver !== void 0) throw new TypeError("transport: the feed is in use");
      receiver = r;
      const chunks = early;
      early = [];
      earlyBytes = 0;
      for (const chunk of chunks) r.data(chunk);
      if (earlyEnd !== void 0) r.end(earlyEnd.err);
      resume();
    },
    get queuedBytes() {
      if (finished || receiver !== void 0) return 0;
      return controller === void 0 ? earlyBytes : highWaterMark - (controller.desiredSize ?? 0);
    },
    get finished() {
      return finished;
    }
  };
}

// src/transport/websocket.ts
var defaultWebSocketHighWaterMark = 1 << 20;
var defaultWebSocketMaxQueued = 16 << 20;
function webSocketURL(a) {
  return `${a.scheme}://${a.host}${a.path}${a.rawQuery === "" ? "" : "?" + a.rawQuery}`;
}
function closeStatusError(code, reason) {
  if (code === 1e3 || code === 1001) return void 0;
  return new TransportError("closed", `transport: websocket closed with status ${code}${reason === "" ? "" : ": " + reason}`);
}
function webSocketConn(ws, options = {}) {
  const highWaterMark = options.highWaterMark ?? defaultWebSocketHighWaterMark;
  const maxQueued = options.maxQueued ?? defaultWebSocketMaxQueued;
  ws.binaryType = "arraybuffer";
  const feed = feedReadable({ pause() {
  }, resume() {
  }, cancel() {
  } }, maxQueued);
  let closedError2;
  const fail = (err, code, reason) => {
    closedError2 ??= err;
    feed.fail(err);
    ws.close(code, reason);
  };
  ws.addEventListener("message", (ev) => {
    if (!(ev.data instanceof ArrayBuffer)) {
      fail(new TransportError("protocol", "transport: websocket: text message received; qtalk sends binary messages"), 1003, "binary messages only");
      return;
    }
    feed.push(new Uint8Array(ev.data));
    if (feed.queuedBytes > maxQueued) {
      fail(new TransportError("protocol", `transport: websocket: more than ${maxQueued} bytes received and unread`), 1008, "too much unread");
    }
  });
  ws.addEventListener("close", (ev) => {
    const err = closeStatusError(ev.code, ev.reason);
    closedError2 ??= err ?? new TransportError("closed", "transport: websocket closed");
    if (err === void 0) feed.end();
    else feed.fail(err);
  });
  const writable = new WritableStream({
    async write(chunk) {
      if (closedError2 !== void 0 || ws.readyState !== ws.OPEN) throw closedError2 ?? new TransportError("closed", "transport: websocket closed");
      ws.send(chunk);
      for (let delay = 1; ws.bufferedAmount > highWaterMark; delay = Math.min(delay * 2, 16)) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (closedError2 !== void 0) throw closedError2;
      }
    },
    close() {
      ws.close(1e3);
    },
    abort() {
      ws.close(1e3);
    }
  });
  return {
    readable: feed.readable,
    writable,
    remoteAddress: ws.url,
    close() {
      const err = new TransportError("closed", "transport: websocket closed");
      closedError2 ??= err;
      feed.fail(err);
      ws.close(1e3);
    }
  };
}
function dialWebSocket(url, options = {}) {
  const WebSocketClass = options.WebSocket ?? globalThis.WebSocket;
  if (WebSocketClass === void 0) {
    return Promise.reject(new TransportError("unsupported", "transport: unsupported operation: no WebSocket class here (pass one as the WebSocket option)"));
  }
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const ws = new WebSocketClass(url);
    ws.binaryType = "arraybuffer";
    const settle = () => {
      signal?.removeEventListener("abort", onAbort);
      ws.removeEventListener("open", onOpen);
      ws.removeEventListener("close", onClose);
    };
    const onAbort = () => {
      settle();
      ws.close();
      reject(signal.reason);
    };
    const onOpen = () => {
      settle();
      resolve(webSocketConn(ws, options));
    };
    const onClose = (ev) => {
      settle();
      reject(new TransportError("closed", `transport: websocket to ${url} failed to open (status ${ev.code})`));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    ws.addEventListener("open", onOpen);
    ws.addEventListener("close", onClose);
  });
}
function webSocketConnector(options = {}) {
  return {
    dialConn: (a, dialOptions) => dialWebSocket(webSocketURL(a), { ...options, ...dialOptions })
  };
}

// src/transport/index.ts
var browserWebSocket = webSocketConnector();
registerConnector("ws", browserWebSocket, ["websocket"]);
registerConnector("wss", browserWebSocket);

// src/web/app.ts
function element(id) {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`qtalk page: no element #${id}`);
  return e;
}
var ui = {
  status: element("status"),
  reconnect: element("reconnect"),
  error: element("error"),
  chatForm: element("chat-form"),
  chatName: element("chat-name"),
  chatText: element("chat-text"),
  chatLog: element("chat-log"),
  kvForm: element("kv-form"),
  kvKey: element("kv-key"),
  kvValue: element("kv-value"),
  kvResult: element("kv-result"),
  echoForm: element("echo-form"),
  echoText: element("echo-text"),
  echoResult: element("echo-result"),
  callbackButton: element("callback-button"),
  callbackResult: element("callback-result")
};
function serverAddress() {
  const given = new URLSearchParams(location.search).get("ws");
  if (given) return given;
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/qtalk`;
}
function describe(err) {
  if (err instanceof QtalkError) return `${err.codeName}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
function show(v) {
  return JSON.stringify(v, (_key, x) => {
    if (typeof x === "bigint") return x.toString();
    if (x instanceof Uint8Array) return `bytes(${x.length})`;
    if (x instanceof Map) return Object.fromEntries(x);
    return x;
  }) ?? "null";
}
function valueOf(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
function showError(what, err) {
  ui.error.textContent = `${what}: ${describe(err)}`;
  ui.error.hidden = false;
}
function setResult(out, text, failed = false) {
  out.textContent = text;
  out.classList.toggle("error", failed);
}
function setState(state, detail = "") {
  ui.status.dataset.state = state;
  ui.status.textContent = detail ? `${state}: ${detail}` : state;
  ui.reconnect.hidden = state !== "disconnected";
  for (const b of document.querySelectorAll("main button")) b.disabled = state !== "connected";
}
var peer;
var subscription;
function pageHandler() {
  const mux = new RespondMux();
  mux.handle("check:echo", async (_r, call) => {
    const v = await call.receiveArgs();
    setResult(ui.callbackResult, `server called back with ${show(v)}`);
    return v;
  });
  return mux;
}
async function connect() {
  const address = serverAddress();
  setState("connecting", address);
  let p;
  try {
    p = new Peer(await dial(address), { handler: pageHandler() });
  } catch (err) {
    setState("disconnected", describe(err));
    return;
  }
  peer = p;
  ui.error.hidden = true;
  setState("connected", address);
  void p.session.done.then((err) => {
    peer = void 0;
    subscription?.abort();
    setState("disconnected", err ? describe(err) : "the server closed the session");
  });
  void subscribe(p);
}
function connected() {
  if (peer === void 0) throw new Error("not connected");
  return peer;
}
var nameKey = "qtalk.chat.name";
function addMessage(m) {
  if (ui.chatLog.querySelector(`li[data-id="${m.id}"]`)) return;
  const li = document.createElement("li");
  li.dataset.id = String(m.id);
  const time = document.createElement("time");
  time.className = "time";
  time.dateTime = m.time;
  time.textContent = new Date(m.time).toLocaleTimeString();
  const user = document.createElement("span");
  user.className = "user";
  user.textContent = m.user;
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = m.text;
  li.append(time, user, text);
  const later = [...ui.chatLog.querySelectorAll("li[data-id]")].find((e) => Number(e.dataset.id) > m.id);
  ui.chatLog.insertBefore(li, later ?? null);
  li.scrollIntoView({ block: "nearest" });
}
function addEvent(text) {
  const li = document.createElement("li");
  li.className = "event";
  li.textContent = text;
  ui.chatLog.append(li);
  li.scrollIntoView({ block: "nearest" });
}
async function subscribe(p) {
  subscription?.abort();
  const ctl = new AbortController();
  subscription = ctl;
  let stream;
  try {
    stream = await p.stream("chat:subscribe", [ui.chatName.value], { signal: ctl.signal });
    const history = await p.call("chat:history", []);
    for (const m of history) addMessage(m);
    for await (const v of stream) {
      const ev = v;
      if (ev.type === "message" && ev.message) addMessage(ev.message);
      else addEvent(`${ev.user} ${ev.type}`);
    }
    if (!ctl.signal.aborted) addEvent("the chat ended the subscription");
  } catch (err) {
    if (!ctl.signal.aborted) showError("chat:subscribe", err);
  } finally {
    await stream?.close();
  }
}
ui.chatName.value = localStorage.getItem(nameKey) ?? `guest-${Math.floor(Math.random() * 9e3) + 1e3}`;
ui.chatName.addEventListener("change", () => {
  localStorage.setItem(nameKey, ui.chatName.value);
  if (peer && ui.chatName.value) void subscribe(peer);
});
ui.chatForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await connected().call("chat:send", [ui.chatName.value, ui.chatText.value]);
    ui.chatText.value = "";
    ui.chatText.focus();
  } catch (err) {
    showError("chat:send", err);
  }
});
ui.kvForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const key = ui.kvKey.value;
  const op = e.submitter?.value === "get" ? "get" : "set";
  try {
    if (op === "set") {
      const value = valueOf(ui.kvValue.value);
      await connected().call("kv:set", [key, value]);
      setResult(ui.kvResult, `set ${key} = ${show(value)}`);
    } else {
      const value = await connected().call("kv:get", [key]);
      setResult(ui.kvResult, `${key} = ${show(value)}`);
    }
  } catch (err) {
    setResult(ui.kvResult, `kv:${op}: ${describe(err)}`, true);
  }
});
ui.echoForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const value = valueOf(ui.echoText.value);
  const start = performance.now();
  try {
    const got = await connected().call("echo:echo", value);
    const ms = performance.now() - start;
    setResult(ui.echoResult, `${show(got)} in ${ms.toFixed(1)} ms`);
  } catch (err) {
    setResult(ui.echoResult, `echo:echo: ${describe(err)}`, true);
  }
});
var callbacks = 0;
ui.callbackButton.addEventListener("click", async () => {
  const value = `callback ${++callbacks}`;
  setResult(ui.callbackResult, "waiting for the server to call back\u2026");
  try {
    const got = await connected().call("check:callback", value);
    setResult(ui.callbackResult, `${ui.callbackResult.textContent}
check:callback returned ${show(got)}`);
  } catch (err) {
    setResult(ui.callbackResult, `check:callback: ${describe(err)}`, true);
  }
});
ui.reconnect.addEventListener("click", () => void connect());
void connect();
