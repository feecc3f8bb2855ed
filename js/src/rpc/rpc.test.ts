import { test } from "node:test";
import assert from "node:assert/strict";
import type { Channel } from "../mux.js";
import { Session } from "../qmux/index.js";
import { memoryPair } from "../transport/memory.js";
import { Client, type ClientOptions } from "./client.js";
import { CBOR, JSON as JSONCodec } from "./codec.js";
import { Code, QtalkError, isMalformed } from "./errors.js";
import { Peer } from "./peer.js";
import { RespondMux } from "./respondmux.js";
import { type Call, type Handler, type Responder, serveSession } from "./server.js";
import { FrameKind, FrameReader, FrameWriter, parseReplyHeader } from "./wire.js";

/** Two sessions over a memory pair: handler serves on one, a Client calls from the other. */
async function harness(handler: Handler, options: { client?: ClientOptions; maxFrameSize?: number } = {}) {
  const [a, b] = memoryPair();
  const clientSession = new Session(a);
  const serverSession = new Session(b);
  const served = serveSession(serverSession, handler, options.maxFrameSize ? { maxFrameSize: options.maxFrameSize } : {});
  const client = new Client(clientSession, options.client);
  return {
    client,
    clientSession,
    async [Symbol.asyncDispose]() {
      client.close();
      await clientSession.close();
      await serverSession.close();
      await served;
    },
  };
}

function mux(routes: Record<string, Handler>): RespondMux {
  const m = new RespondMux();
  for (const [p, h] of Object.entries(routes)) m.handle(p, h);
  return m;
}

const echo = async (_r: Responder, c: Call) => c.receiveArgs();

/** A promise and its resolve, to wait for a handler to reach a point. */
function signal<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects with a QtalkError of code, message matching. */
async function rejectsWith(p: Promise<unknown>, code: number, message?: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof QtalkError, String(err));
    assert.equal(err.codeName, new QtalkError(code, "").codeName, String(err));
    if (message) assert.match(err.message, message);
    return true;
  });
}

test("unary calls in both codecs; fn-style positional arguments", async () => {
  await using h = await harness(
    mux({
      echo,
      add: async (_r, c) => {
        const [a, b] = await c.receiveArgs<[number, number]>();
        return a + b;
      },
      codec: (_r, c) => c.codec.name,
    }),
  );
  assert.equal(await h.client.call("echo", "hi"), "hi");
  assert.equal(await h.client.call("add", [2, 3]), 5);
  const v = { a: [1, 2.5, "x"], b: new Uint8Array([1, 2, 3]) };
  assert.deepEqual(await h.client.call("echo", v), v);
  assert.deepEqual(await h.client.call("echo", { a: [1, 2.5, "x"] }, { codec: JSONCodec }), { a: [1, 2.5, "x"] });
  assert.equal(await h.client.call("codec", null, { codec: JSONCodec }), "json");
  assert.equal(await h.client.call("codec"), "cbor");
  assert.equal(await h.client.call("echo"), null); // no arguments: null
  // Concurrent calls, each on its own channel.
  const sums = await Promise.all(Array.from({ length: 50 }, (_, i) => h.client.call("add", [i, i])));
  assert.deepEqual(sums, Array.from({ length: 50 }, (_, i) => 2 * i));
});

test("errors: codes and details from handlers, not_found, unknown codec, thrown plain errors", async () => {
  await using h = await harness(
    mux({
      fail: () => {
        throw new QtalkError(Code.PermissionDenied, "not you", { details: Uint8Array.of(1, 2) });
      },
      viaResponder: (r) => r.error(new QtalkError(Code.AlreadyExists, "twice")),
      plain: () => {
        throw new Error("boom");
      },
      weird: () => {
        throw 42;
      },
    }),
  );
  await assert.rejects(h.client.call("fail"), (err: unknown) => {
    assert.ok(err instanceof QtalkError);
    assert.equal(err.code, Code.PermissionDenied);
    assert.equal(err.message, "not you");
    assert.deepEqual(err.details, Uint8Array.of(1, 2));
    return true;
  });
  await rejectsWith(h.client.call("viaResponder"), Code.AlreadyExists, /^twice$/);
  await rejectsWith(h.client.call("nope"), Code.NotFound, /no handler for "nope"/);
  await rejectsWith(h.client.call("plain"), Code.Unknown, /^boom$/);
  await rejectsWith(h.client.call("weird"), Code.Internal, /42/);
  const xml = { name: "xml", encode: () => new Uint8Array(1), decode: () => null };
  await rejectsWith(h.client.call("fail", null, { codec: xml }), Code.Unimplemented, /unknown codec "xml"/);
});

test("streams: server to client, client to server, both ways", async () => {
  await using h = await harness(
    mux({
      countdown: async (r, c) => {
        let n = await c.receiveArgs<number>();
        await r.continue(null);
        while (n > 0) await r.send(n--);
      },
      sum: async (r, c) => {
        await c.receiveArgs();
        await r.continue("go");
        let total = 0;
        for await (const v of c) total += v as number;
        await r.send(total);
      },
      upper: async (r, c) => {
        await c.receiveArgs();
        await r.continue(null);
        for await (const v of c) await r.send(String(v).toUpperCase());
      },
      failing: async (r) => {
        await r.continue(null);
        await r.send(1);
        throw new QtalkError(Code.DataLoss, "lost");
      },
    }),
  );
  const down = await h.client.stream("countdown", 3);
  assert.equal(down.continued, true);
  const got: unknown[] = [];
  for await (const v of down) got.push(v);
  assert.deepEqual(got, [3, 2, 1]);
  await down.close();

  const sum = await h.client.stream("sum");
  assert.equal(sum.value, "go");
  for (const v of [1, 2, 3, 4]) await sum.send(v);
  await sum.closeSend();
  assert.deepEqual(await sum.receive(), { done: false, value: 10 });
  assert.deepEqual(await sum.receive(), { done: true, value: undefined });
  await sum.close();

  const up = await h.client.stream("upper");
  for (const w of ["a", "b"]) {
    await up.send(w);
    assert.deepEqual(await up.receive(), { done: false, value: w.toUpperCase() });
  }
  await up.closeSend();
  assert.equal((await up.receive()).done, true);
  await up.close();

  const failing = await h.client.stream("failing");
  assert.deepEqual(await failing.receive(), { done: false, value: 1 });
  await rejectsWith(failing.receive(), Code.DataLoss, /^lost$/);
  await failing.close();
});

test("raw channels: 1 MiB echoed, the bytes sent right after the reply read first", async () => {
  const size = 1 << 20;
  await using h = await harness(
    mux({
      echo: async (r) => {
        await r.continue(null);
        const conn = r.conn();
        for await (const chunk of conn) await conn.write(chunk);
        await conn.closeWrite();
      },
      // Writes raw bytes in the same write as the reply: the client's
      // frame reader reads them with the reply and must hand them on.
      hello: async (r) => {
        await r.continue(null);
        await r.conn().write(new TextEncoder().encode("raw after reply"));
      },
    }),
  );
  const res = await h.client.stream("echo");
  const conn = res.conn();
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7) & 0xff;
  const writing = (async () => {
    for (let i = 0; i < size; i += 50_000) await conn.write(data.subarray(i, i + 50_000));
    await conn.closeWrite();
  })();
  const got = new Uint8Array(size);
  let n = 0;
  for await (const chunk of conn) {
    got.set(chunk, n);
    n += chunk.length;
  }
  await writing;
  assert.equal(n, size);
  assert.ok(Buffer.from(got).equals(Buffer.from(data)));
  await res.close();

  const hello = await h.client.stream("hello");
  let text = "";
  for await (const chunk of hello.conn()) text += new TextDecoder().decode(chunk);
  assert.equal(text, "raw after reply");
  await hello.close();
});

test("cancellation: the handler's signal aborts with the client's CANCEL reason code", async () => {
  const reasons: unknown[] = [];
  const started = signal();
  const aborted = signal();
  await using h = await harness(
    mux({
      wait: async (_r, c) => {
        const s = c.signal;
        started.resolve();
        await new Promise((resolve) => s.addEventListener("abort", resolve, { once: true }));
        reasons.push(s.reason);
        aborted.resolve();
      },
    }),
  );
  const ac = new AbortController();
  const call = h.client.call("wait", null, { signal: ac.signal });
  await started.promise;
  ac.abort();
  await rejectsWith(call, Code.Canceled);
  await aborted.promise;
  assert.equal((reasons[0] as QtalkError).code, Code.Canceled);

  // A reason that is a deadline travels as deadline_exceeded.
  const started2 = signal();
  const aborted2 = signal();
  const h2 = await harness(
    mux({
      wait: async (_r, c) => {
        const s = c.signal;
        started2.resolve();
        await new Promise((resolve) => s.addEventListener("abort", resolve, { once: true }));
        reasons.push(s.reason);
        aborted2.resolve();
      },
    }),
  );
  const ac2 = new AbortController();
  const call2 = h2.client.call("wait", null, { signal: ac2.signal });
  await started2.promise;
  ac2.abort(new DOMException("too late", "TimeoutError"));
  await rejectsWith(call2, Code.DeadlineExceeded, /too late/);
  await aborted2.promise;
  assert.equal((reasons[1] as QtalkError).code, Code.DeadlineExceeded);
  assert.equal((reasons[1] as QtalkError).message, "too late");
  await h2[Symbol.asyncDispose]();
});

test("an already aborted signal fails the call before anything is sent", async () => {
  let calls = 0;
  await using h = await harness(() => void calls++);
  const ac = new AbortController();
  ac.abort();
  await rejectsWith(h.client.call("x", null, { signal: ac.signal }), Code.Canceled);
  assert.equal(await h.client.call("x"), null);
  assert.equal(calls, 1);
});

test("deadlines: the handler sees the timeout from the header, and its signal aborts with deadline_exceeded", async () => {
  let seen: number | undefined;
  let reason: unknown;
  await using h = await harness(
    mux({
      deadline: (_r, c) => (c.deadline === undefined ? null : c.deadline - performance.now()),
      sleep: async (_r, c) => {
        seen = c.deadline;
        const s = c.signal;
        await new Promise((resolve) => s.addEventListener("abort", resolve, { once: true }));
        reason = s.reason;
      },
    }),
  );
  const left = (await h.client.call("deadline", null, { timeout: 60_000 })) as number;
  assert.ok(left > 50_000 && left <= 60_000, `deadline ${left} ms away`);
  assert.equal(await h.client.call("deadline"), null);
  await rejectsWith(h.client.call("sleep", null, { timeout: 20 }), Code.DeadlineExceeded);
  // The server's own timer or the client's CANCEL: both say deadline_exceeded.
  while (reason === undefined) await new Promise((r) => setImmediate(r));
  assert.ok(seen !== undefined);
  assert.equal((reason as QtalkError).code, Code.DeadlineExceeded);
});

test("metadata reaches the handler", async () => {
  await using h = await harness((_r, c) => Object.fromEntries(c.metadata));
  assert.deepEqual(await h.client.call("md", null, { metadata: { a: "b", "": "empty key" } }), { a: "b", "": "empty key" });
  assert.deepEqual(await h.client.call("md", null, { metadata: new Map([["k", "v"]]) }), { k: "v" });
  assert.deepEqual(await h.client.call("md"), {});
});

test("callbacks: a handler calls back the peer that called it", async () => {
  const [a, b] = memoryPair();
  const server = new Peer(new Session(a), {
    handler: mux({
      greet: async (_r, c) => {
        const name = await c.receiveArgs<string>();
        const title = await c.caller.call<string>("title", [name]);
        return `hello, ${title} ${name}`;
      },
    }),
  });
  const client = new Peer(new Session(b), { handler: mux({ title: () => "Dr." }) });
  assert.equal(await client.call("greet", "Ada"), "hello, Dr. Ada");
  // And the other way round.
  await rejectsWith(server.call("greet", "x"), Code.NotFound);
  assert.equal(await server.call("title"), "Dr.");
  await client.close();
  await server.close();
});

/** Opens a channel, writes bytes, returns the server's first frame and whether the channel then ends. */
async function rawExchange(h: { clientSession: Session }, bytes: Uint8Array, maxFrameSize?: number) {
  const ch: Channel = await h.clientSession.open();
  await ch.write(bytes).catch(() => {});
  const fr = new FrameReader(ch, maxFrameSize);
  const first = await fr.next();
  const after = await fr.next().catch((err) => err);
  await ch.close();
  return { first, after };
}

function frame(kind: number, payload: Uint8Array = new Uint8Array()): Uint8Array {
  const w = new FrameWriter();
  const f = w.beginFrame(kind);
  w.raw(payload);
  w.endFrame(f);
  return w.finish();
}

function callFrame(selector: string, codec = "cbor"): Uint8Array {
  const w = new FrameWriter();
  const f = w.beginFrame(FrameKind.Call);
  w.callHeader(selector, codec, 0);
  w.endFrame(f);
  return w.finish();
}

test("malformed frames get invalid_argument 'rpc: malformed frame', the session serves on", async () => {
  await using h = await harness(mux({ echo }));
  const cases: [string, Uint8Array][] = [
    ["value first", frame(FrameKind.Value, Uint8Array.of(0xf6))],
    ["unknown kind", frame(9)],
    ["bad header", frame(FrameKind.Call, Uint8Array.of(0x7f, 0x73))],
    ["trailing bytes", frame(FrameKind.Call, Uint8Array.of(1, 0x73, 4, 0x63, 0x62, 0x6f, 0x72, 0, 0, 0))],
    ["call twice", new Uint8Array([...callFrame("echo"), ...callFrame("echo")])],
  ];
  for (const [name, bytes] of cases) {
    const { first, after } = await rawExchange(h, bytes);
    assert.equal(first?.kind, FrameKind.Reply, name);
    const { error } = parseReplyHeader(first!.payload);
    assert.ok(isMalformed(error), `${name}: ${error}`);
    assert.equal(after, null, name); // then the server closed the channel
  }
  // Ending inside a frame, or between CALL and its VALUE.
  for (const [name, bytes] of [["inside", frame(FrameKind.Call).subarray(0, 3)], ["no value", callFrame("echo")]] as const) {
    const ch = await h.clientSession.open();
    await ch.write(bytes);
    await ch.closeWrite();
    const first = await new FrameReader(ch).next();
    assert.ok(isMalformed(parseReplyHeader(first!.payload).error), name);
    await ch.close();
  }
  // Arguments that do not decode: invalid_argument from the codec.
  const { first } = await rawExchange(h, new Uint8Array([...callFrame("echo"), ...frame(FrameKind.Value, Uint8Array.of(0xff))]));
  const { error } = parseReplyHeader(first!.payload);
  assert.equal(error?.code, Code.InvalidArgument);
  assert.match(error!.message, /decode cbor value/);
  assert.equal(await h.client.call("echo", "still here"), "still here");
});

test("compression (spec/rpc.md section 13), which this package does not implement: a call asking for it is answered plainly, a COMPRESSED frame is refused cleanly", async () => {
  await using h = await harness(mux({ echo }));
  // A Go client with compression on asks in its metadata: the reply has
  // no compress flag and a plain VALUE, so the client never compresses.
  const w = new FrameWriter();
  const f = w.beginFrame(FrameKind.Call);
  w.callHeader("echo", "cbor", 0, { "qtalk-compress": "zstd" });
  w.endFrame(f);
  const big = new Uint8Array(64 << 10);
  const v = w.beginFrame(FrameKind.Value);
  w.raw(CBOR.encode(big));
  w.endFrame(v);
  const ch: Channel = await h.clientSession.open();
  await ch.write(w.finish());
  const fr = new FrameReader(ch);
  const reply = await fr.next();
  assert.equal(reply?.kind, FrameKind.Reply);
  assert.deepEqual(reply!.payload, Uint8Array.of(0)); // no flags
  const value = await fr.next();
  assert.equal(value?.kind, FrameKind.Value);
  assert.deepEqual(CBOR.decode(value!.payload), big);
  await ch.close();
  // A COMPRESSED frame (kind 8), which no peer sends it: malformed, and the session serves on.
  const { first, after } = await rawExchange(h, new Uint8Array([...callFrame("echo"), ...frame(8, Uint8Array.of(1, 3, 0x28, 0xb5, 0x2f, 0xfd))]));
  assert.equal(first?.kind, FrameKind.Reply);
  assert.ok(isMalformed(parseReplyHeader(first!.payload).error));
  assert.equal(after, null);
  assert.equal(await h.client.call("echo", "still here"), "still here");
});

test("oversized frames: the server answers resource_exhausted, the client fails the call the same way", async () => {
  await using h = await harness(mux({ echo, big: () => new Uint8Array(2000) }), { maxFrameSize: 1000, client: { maxFrameSize: 1000 } });
  await rejectsWith(h.client.call("echo", new Uint8Array(5000)), Code.ResourceExhausted, /exceeds the limit of 1000/);
  await rejectsWith(h.client.call("big"), Code.ResourceExhausted, /exceeds the limit of 1000/);
  // A declared length of 4 GiB, refused from the header.
  const { first } = await rawExchange(h, new Uint8Array([...callFrame("echo"), FrameKind.Value, 0xff, 0xff, 0xff, 0xff]));
  assert.equal(parseReplyHeader(first!.payload).error?.code, Code.ResourceExhausted);
  assert.equal(await h.client.call("echo", 1), 1);
});

test("a refused reply is sent again on a new channel", async () => {
  let served = 0;
  const [a, b] = memoryPair();
  const clientSession = new Session(a);
  const serverSession = new Session(b);
  // Refuses the first call, serves the others.
  const serving = (async () => {
    const first = await serverSession.accept();
    const fr = new FrameReader(first);
    await fr.next();
    await first.write(frame(FrameKind.Reply, Uint8Array.of(0x06, Code.Unavailable, 0, 0)));
    await first.close();
    await serveSession(serverSession, () => ++served);
  })();
  const client = new Client(clientSession, { openAhead: 0 });
  assert.equal(await client.call("x"), 1);
  await clientSession.close();
  await serverSession.close();
  await serving;
});

test("CBOR is the default and registered codecs apply to calls", async () => {
  await using h = await harness((_r, c) => c.codec.name);
  assert.equal(h.client.codec, CBOR);
  assert.equal(await h.client.call("x"), "cbor");
});

test("serveSession closes the channels its own caller opened ahead once it stops serving", async () => {
  const [a, b] = memoryPair();
  const clientSession = new Session(a);
  const serverSession = new Session(b);
  const stop = new AbortController();
  // The handler calls back, so the server's caller opens channels ahead (2 by default).
  const served = serveSession(serverSession, async (_r, c) => c.caller.call("back"), { signal: stop.signal });
  const client = new Client(clientSession, { openAhead: 0 });
  const back = client.call("x");
  // The callback's channel and the two opened ahead, in some order.
  const firsts: Promise<unknown>[] = [];
  const readers: FrameReader[] = [];
  const chans: Channel[] = [];
  for (let i = 0; i < 3; i++) {
    chans.push(await clientSession.accept());
    const fr = new FrameReader(chans[i]!);
    readers.push(fr);
    firsts.push(fr.next());
  }
  const i = await Promise.race(firsts.map((p, i) => p.then(() => i)));
  const cb = readers[i]!;
  await cb.next(); // the arguments
  const w = new FrameWriter(32);
  const r = w.beginFrame(FrameKind.Reply);
  w.replyHeader(false);
  w.endFrame(r);
  const v = w.beginFrame(FrameKind.Value);
  w.raw(CBOR.encode("ok"));
  w.endFrame(v);
  await chans[i]!.write(w.finish());
  await chans[i]!.close();
  assert.equal(await back, "ok");
  stop.abort();
  await served;
  // The session goes on, but the channels opened ahead are closed.
  for (const [j, p] of firsts.entries()) if (j !== i) assert.equal(await p, null);
  await clientSession.close();
  await serverSession.close();
});

test("a call's timeout bounds the open of its channel: a peer that never confirms gets deadline_exceeded", async () => {
  const [a, b] = memoryPair();
  const clientSession = new Session(a);
  // b is read by nobody: the open is never confirmed.
  const client = new Client(clientSession, { openAhead: 0 });
  await rejectsWith(client.call("x", null, { timeout: 20 }), Code.DeadlineExceeded);
  await clientSession.close();
  await b.close();
});
