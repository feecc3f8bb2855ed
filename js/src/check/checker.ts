// The checker of the interop check protocol (spec/check.md sections 4 and
// 5): the cases of Go's internal/check, with the same names, order and
// expectations, run against a server over a session.

import type { Session } from "../mux.js";
import { Client, type CallOptions } from "../rpc/client.js";
import { CBOR, JSON as JSONCodec, type Codec } from "../rpc/codec.js";
import { codeName, codeOf, Code, QtalkError } from "../rpc/errors.js";
import { RespondMux } from "../rpc/respondmux.js";
import type { Handler } from "../rpc/server.js";
import { equalBytes, ExcessBytesError, firstDifference, pattern, readAll } from "./bytes.js";
import { Bytes, Callback, Echo, echo, Fail, Metadata, Prefix, Stream, Sum } from "./protocol.js";
import { Float, typedCBOR, typedJSON } from "./typed.js";

/** How long each case may take when the checker is given no timeout (ms). */
export const defaultTimeoutMs = 10_000;

/** A case's calls succeeded but returned something other than what the protocol says (Go's check.ErrMismatch). */
export class CheckMismatchError extends Error {
  constructor(detail: string) {
    super(`check: unexpected result: ${detail}`);
    this.name = "CheckMismatchError";
  }
}

/** The outcome of one case: error is undefined if it passed. */
export interface CaseResult {
  name: string;
  error?: unknown;
  elapsedMs: number;
}

/** Options of Checker.run. */
export interface RunOptions {
  /** Called with each result as it comes. */
  report?: (r: CaseResult) => void;
  /** Stops the run: the case under way fails with the reason, and no further case runs. */
  signal?: AbortSignal;
}

/** What a case calls with: a client per codec, and the options that carry the case's deadline. */
interface CaseContext {
  cbor: Client;
  json: Client;
  /** Call options for the case's deadline and the run's signal, with the typed codec of client. */
  options(client: Client): CallOptions;
  /** Calls the checker's check:echo got so far. */
  callbacks(): number;
}

interface Case {
  name: string;
  run(c: CaseContext): Promise<void>;
}

/** The cases in the order they run. */
const cases: readonly Case[] = [
  { name: "unary cbor", run: (c) => unary(c, c.cbor) },
  { name: "unary json", run: (c) => unary(c, c.json) },
  { name: "metadata", run: checkMetadata },
  { name: "errors", run: checkErrors },
  { name: "bad selector", run: checkBadSelector },
  { name: "bad arguments", run: checkBadArguments },
  { name: "server stream", run: checkServerStream },
  { name: "client stream", run: checkClientStream },
  { name: "concurrent calls", run: checkConcurrent },
  { name: "bytes 1 B", run: (c) => checkBytes(c, 1) },
  { name: "bytes 1 KiB", run: (c) => checkBytes(c, 1 << 10) },
  { name: "bytes 1 MiB", run: (c) => checkBytes(c, 1 << 20) },
  { name: "callback", run: checkCallback },
];

/** The names of the cases in the order they run. */
export const caseNames: readonly string[] = cases.map((c) => c.name);

/**
 * Runs the cases against a server. The session it runs over must serve
 * the checker's handler() (for the callback case), as a Peer does.
 */
export class Checker {
  /** How long each case may take (ms): its calls carry the deadline. */
  readonly timeoutMs: number;
  private callbackCount = 0;

  constructor(options: { timeoutMs?: number } = {}) {
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  }

  /** What the checking side serves: check:echo under its full selector, counting its calls. */
  handler(): Handler {
    return new RespondMux().handle(Echo, (r, call) => {
      this.callbackCount++;
      return echo(r, call);
    });
  }

  /**
   * Runs every case against the server at the other end of session, one
   * after the other, each over its own deadline; calls in JSON go over a
   * client of their own. Resolves with the results of the cases that ran.
   */
  async run(session: Session, options: RunOptions = {}): Promise<CaseResult[]> {
    const { signal, report } = options;
    const cbor = new Client(session, { codec: CBOR });
    const json = new Client(session, { codec: JSONCodec });
    const results: CaseResult[] = [];
    try {
      for (const tc of cases) {
        if (signal?.aborted) break;
        const start = performance.now();
        const deadline = start + this.timeoutMs;
        const context: CaseContext = {
          cbor,
          json,
          options: (client) => ({
            timeout: Math.max(0, deadline - performance.now()),
            codec: client.codec.name === JSONCodec.name ? typedJSON : typedCBOR,
            // A signal of its own per call: the 32 concurrent calls would
            // otherwise hang 32 listeners on one signal.
            ...(signal ? { signal: AbortSignal.any([signal]) } : {}),
          }),
          callbacks: () => this.callbackCount,
        };
        let error: unknown;
        try {
          await tc.run(context);
        } catch (err) {
          error = err;
        }
        const result: CaseResult = { name: tc.name, elapsedMs: performance.now() - start, ...(error === undefined ? {} : { error }) };
        results.push(result);
        report?.(result);
      }
    } finally {
      cbor.close();
      json.close();
    }
    return results;
  }
}

/** The sample value of the unary cases (spec/check.md section 5), as sent. */
function sample(): Record<string, unknown> {
  return {
    s: 'héllo, 世界 "quoted"\n',
    n: -(2 ** 40),
    f: 0.125,
    b: true,
    bytes: Uint8Array.of(0, 1, 2, 0xfe, 0xff),
    l: ["a", "", "c"],
    m: { one: 1, two: 2 },
    nil: null,
  };
}

/** The sample as it must come back in codec: f a float; bytes a byte string in CBOR, base64 in JSON. */
function sampleEchoed(codec: Codec): Record<string, unknown> {
  return { ...sample(), f: new Float(0.125), ...(codec.name === JSONCodec.name ? { bytes: "AAEC/v8=" } : {}) };
}

async function unary(c: CaseContext, client: Client): Promise<void> {
  const got = await client.call(Echo, sample(), c.options(client));
  const want = sampleEchoed(client.codec);
  if (!sameValue(got, want)) throw new CheckMismatchError(`${Echo} echoed ${render(got)}, want ${render(want)}`);
}

async function checkMetadata(c: CaseContext): Promise<void> {
  const md = { k: "v", "x-check": "héllo world" };
  const got = await c.cbor.call(Metadata, null, { ...c.options(c.cbor), metadata: md });
  if (!sameValue(got, md)) throw new CheckMismatchError(`${Metadata} replied ${render(got)}, want ${render(md)}`);
}

async function checkErrors(c: CaseContext): Promise<void> {
  for (const code of [Code.InvalidArgument, Code.NotFound, Code.FailedPrecondition, Code.Unauthenticated]) {
    const message = `check failure ${code}`;
    const err = await c.cbor.call(Fail, { code, message }, c.options(c.cbor)).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (err === undefined) throw new CheckMismatchError(`${Fail} with code ${codeName(code)} succeeded`);
    if (!(err instanceof QtalkError)) throw err;
    if (err.code !== code || err.message !== message) {
      throw new CheckMismatchError(
        `${Fail}: got ${err.codeName} ${JSON.stringify(err.message)}, want ${codeName(code)} ${JSON.stringify(message)}`,
      );
    }
  }
}

/** The code a call fails with: ok if it succeeded. */
async function failure(call: Promise<unknown>): Promise<{ code: number; err: unknown }> {
  try {
    await call;
    return { code: Code.OK, err: undefined };
  } catch (err) {
    return { code: codeOf(err), err };
  }
}

async function checkBadSelector(c: CaseContext): Promise<void> {
  const { code, err } = await failure(c.cbor.call(`${Prefix}no-such-selector`, null, c.options(c.cbor)));
  if (code !== Code.NotFound) {
    throw new CheckMismatchError(`an unknown selector failed with ${codeName(code)} (${String(err)}), want not_found`);
  }
}

async function checkBadArguments(c: CaseContext): Promise<void> {
  const { code, err } = await failure(c.cbor.call(Stream, "not a count", c.options(c.cbor)));
  if (code !== Code.InvalidArgument) {
    throw new CheckMismatchError(`${Stream} with a string failed with ${codeName(code)} (${String(err)}), want invalid_argument`);
  }
}

/** Whether v is an integer as a peer sends it: not a Float, not a fraction. */
function isInteger(v: unknown, want: number): boolean {
  return (typeof v === "number" || typeof v === "bigint") && v == want; // a bigint equals its number
}

async function checkServerStream(c: CaseContext): Promise<void> {
  const n = 100;
  const resp = await c.cbor.stream(Stream, n, c.options(c.cbor));
  try {
    if (!resp.continued) throw new CheckMismatchError(`${Stream} did not continue the call`);
    for (let i = 0; ; i++) {
      const r = await resp.receive();
      if (r.done && i === n) return;
      if (r.done) throw new CheckMismatchError(`${Stream} ended after ${i} values, want ${n}`);
      if (i >= n || !isInteger(r.value, i)) throw new CheckMismatchError(`${Stream} value ${i} is ${render(r.value)}`);
    }
  } finally {
    await resp.close();
  }
}

async function checkClientStream(c: CaseContext): Promise<void> {
  const n = 100;
  const resp = await c.cbor.stream(Sum, null, c.options(c.cbor));
  try {
    if (!resp.continued) throw new CheckMismatchError(`${Sum} did not continue the call`);
    for (let i = 1; i <= n; i++) await resp.send(i);
    await resp.closeSend();
    const total = await resp.receive();
    const want = (n * (n + 1)) / 2;
    if (total.done) throw new CheckMismatchError(`${Sum} ended its stream without the sum`);
    if (!isInteger(total.value, want)) throw new CheckMismatchError(`${Sum} of 1..${n} is ${render(total.value)}, want ${want}`);
    const after = await resp.receive().catch((err: unknown) => ({ done: false, value: err }));
    if (!after.done) throw new CheckMismatchError(`after the sum, ${Sum} sent ${render(after.value)}, want the end of the stream`);
  } finally {
    await resp.close();
  }
}

async function checkConcurrent(c: CaseContext): Promise<void> {
  const n = 32;
  const outcomes = await Promise.allSettled(
    Array.from({ length: n }, async (_, i) => {
      const got = await c.cbor.call(Echo, i, c.options(c.cbor));
      if (!isInteger(got, i)) throw new CheckMismatchError(`concurrent ${Echo} of ${i} returned ${render(got)}`);
    }),
  );
  const errors = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
  if (errors.length > 0) throw new AggregateError(errors, errors.map((e) => String(e instanceof Error ? e.message : e)).join("\n"));
}

async function checkBytes(c: CaseContext, size: number): Promise<void> {
  const resp = await c.cbor.stream(Bytes, size, c.options(c.cbor));
  try {
    if (!resp.continued) throw new CheckMismatchError(`${Bytes} did not continue the call`);
    const data = pattern(size);
    const conn = resp.conn();
    // Written while the echo is read, so that a server echoing as it reads passes.
    const writing = conn.write(data).then(() => conn.closeWrite());
    let got: Uint8Array;
    try {
      got = await readAll(conn, size);
    } catch (err) {
      await resp.close(); // unblocks the write
      await writing.catch(() => {});
      if (err instanceof ExcessBytesError) throw new CheckMismatchError(`${Bytes} returned more than the ${size} bytes sent`);
      throw err;
    }
    await writing;
    if (!equalBytes(got, data)) {
      const at = firstDifference(got, data);
      throw new CheckMismatchError(
        `${Bytes} returned ${got.length} bytes, want the ${size} sent${at < 0 ? "" : `, first difference at byte ${at}`}`,
      );
    }
  } finally {
    await resp.close();
  }
}

async function checkCallback(c: CaseContext): Promise<void> {
  const before = c.callbacks();
  const token = "callback token";
  const got = await c.cbor.call(Callback, token, c.options(c.cbor));
  if (got !== token) throw new CheckMismatchError(`${Callback} replied ${render(got)}, want ${render(token)}`);
  const calls = c.callbacks() - before;
  if (calls !== 1) throw new CheckMismatchError(`${Callback} called back ${Echo} ${calls} times, want once`);
}

/**
 * Whether got is want, strictly: the same types (a Float is not an
 * integer, a byte string not a text), maps with exactly the same text keys
 * in any order, arrays and bytes element by element.
 */
export function sameValue(got: unknown, want: unknown): boolean {
  if (want instanceof Float) return got instanceof Float && Object.is(got.value, want.value);
  if (want instanceof Uint8Array) return got instanceof Uint8Array && equalBytes(got, want);
  if (Array.isArray(want)) {
    return Array.isArray(got) && got.length === want.length && want.every((w, i) => sameValue(got[i], w));
  }
  if (typeof want === "object" && want !== null) {
    if (!isPlainMap(got)) return false;
    const keys = Object.keys(want);
    return Object.keys(got).length === keys.length && keys.every((k) => Object.hasOwn(got, k) && sameValue(got[k], (want as Record<string, unknown>)[k]));
  }
  if (typeof want === "number" && typeof got === "bigint") return Number.isInteger(want) && got === BigInt(want);
  return Object.is(got, want);
}

function isPlainMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Float) && !(v instanceof Map);
}

/** A decoded value as text, for messages: JSON-like, with floats marked and bytes in hex. */
export function render(v: unknown): string {
  if (v instanceof Float) return String(v);
  if (v instanceof Uint8Array) {
    const shown = Array.from(v.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
    return `h'${shown}${v.length > 16 ? `…' (${v.length} bytes)` : "'"}`;
  }
  if (Array.isArray(v)) return `[${v.map(render).join(", ")}]`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${render(k)}: ${render(x)}`).join(", ")}}`;
  if (v instanceof Error) return v.message;
  if (typeof v === "object" && v !== null) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${render(x)}`).join(", ")}}`;
  if (typeof v === "bigint") return v.toString();
  return JSON.stringify(v) ?? String(v);
}
