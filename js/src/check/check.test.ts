import { test } from "node:test";
import assert from "node:assert/strict";
import { Session } from "../qmux/index.js";
import { Code, QtalkError } from "../rpc/errors.js";
import { Peer } from "../rpc/peer.js";
import { RespondMux } from "../rpc/respondmux.js";
import type { Handler } from "../rpc/server.js";
import { memoryPair } from "../transport/memory.js";
import { caseNames, Checker, CheckMismatchError, sameValue, type CaseResult } from "./checker.js";
import * as check from "./protocol.js";
import { Float } from "./typed.js";

/** Runs a checker against a peer serving server under check:, over memory conns. */
async function run(server: Handler, signal?: AbortSignal): Promise<{ results: CaseResult[]; reported: CaseResult[] }> {
  const [a, b] = memoryPair();
  const serverPeer = new Peer(new Session(a), { handler: new RespondMux().handle(check.Prefix, server) });
  const checker = new Checker({ timeoutMs: 5000 });
  const clientPeer = new Peer(new Session(b), { handler: checker.handler() });
  const reported: CaseResult[] = [];
  try {
    const results = await checker.run(clientPeer.session, { report: (r) => reported.push(r), ...(signal ? { signal } : {}) });
    return { results, reported };
  } finally {
    await clientPeer.close();
    await serverPeer.close();
  }
}

function failedNames(results: CaseResult[]): string[] {
  return results.filter((r) => r.error !== undefined).map((r) => r.name);
}

test("the protocol's handler passes every case, reported in order", async () => {
  const { results, reported } = await run(check.handler());
  assert.deepEqual(
    results.map((r) => r.name),
    caseNames,
  );
  assert.deepEqual(reported, results);
  for (const r of results) assert.equal(r.error, undefined, `${r.name}: ${String(r.error)}`);
  assert.equal(caseNames.length, 13);
});

test("a server that breaks the protocol fails the cases that check what it breaks, and only those", async () => {
  const m = check.handler();
  m.remove("echo");
  m.handle("echo", () => "not what you sent");
  m.remove("fail");
  m.handle("fail", () => {
    throw new QtalkError(Code.Internal, "always internal");
  });
  m.remove("bytes");
  m.handle("bytes", async (r) => {
    // Drops the last byte.
    await r.continue(null);
    const conn = r.conn();
    const chunks: Uint8Array[] = [];
    for (let c = await conn.read(); c !== null; c = await conn.read()) chunks.push(c);
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    chunks.reduce((at, c) => (all.set(c, at), at + c.length), 0);
    await conn.write(all.subarray(0, all.length - 1));
    await conn.closeWrite();
  });
  m.remove("stream");
  m.handle("stream", () => null); // takes anything, streams nothing
  const { results } = await run(m);
  assert.deepEqual(failedNames(results), [
    "unary cbor",
    "unary json",
    "errors",
    "bad arguments",
    "server stream",
    "concurrent calls",
    "bytes 1 B",
    "bytes 1 KiB",
    "bytes 1 MiB",
  ]);
  const byName = new Map(results.map((r) => [r.name, r.error]));
  assert.ok(byName.get("unary cbor") instanceof CheckMismatchError);
  assert.match(String(byName.get("errors")), /check:fail: got internal "always internal", want invalid_argument "check failure 3"/);
  assert.match(String(byName.get("bytes 1 KiB")), /check:bytes returned 1023 bytes, want the 1024 sent/);
  assert.match(String(byName.get("server stream")), /check:stream did not continue the call/);
});

test("a callback that does not reach the checker's check:echo fails the callback case with the callback's code", async () => {
  const m = check.handler();
  m.remove("callback");
  m.handle("callback", async (_r, call) => {
    // Calls a selector the checker does not serve, as a wrong server would.
    await call.receiveArgs();
    return call.caller.call("check:no-echo", "x");
  });
  const { results } = await run(m);
  assert.deepEqual(failedNames(results), ["callback"]);
  const err = results.at(-1)!.error;
  assert.ok(err instanceof QtalkError && err.code === Code.NotFound, String(err));
});

test("a run stops once its signal aborts", async () => {
  const controller = new AbortController();
  const m = check.handler();
  m.remove("metadata");
  m.handle("metadata", async (_r, call) => {
    controller.abort(new Error("stop"));
    await call.receiveArgs();
    return Object.fromEntries(call.metadata);
  });
  const { results } = await run(m, controller.signal);
  assert.deepEqual(
    results.map((r) => r.name),
    ["unary cbor", "unary json", "metadata"],
  );
});

test("sameValue is strict about types: floats, integers, bytes, texts and extra keys", () => {
  assert.ok(sameValue({ a: new Float(0.5), b: 1 }, { b: 1, a: new Float(0.5) }));
  assert.ok(!sameValue(1, new Float(1)), "an integer is not a float");
  assert.ok(!sameValue(new Float(1), 1), "a float is not an integer");
  assert.ok(sameValue(5n, 5), "a bigint equals its number");
  assert.ok(!sameValue("AAE=", Uint8Array.of(0, 1)), "text is not bytes");
  assert.ok(!sameValue({ a: 1, extra: null }, { a: 1 }), "no more keys");
  assert.ok(!sameValue({}, { nil: null }), "no less keys");
  assert.ok(!sameValue([1, 2], [1, 2, 3]));
  assert.ok(!sameValue(new Map([["a", 1]]), { a: 1 }), "a map with other than text keys is not the sample's");
});
