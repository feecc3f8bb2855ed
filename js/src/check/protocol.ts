// The server side of the interop check protocol (spec/check.md section 3),
// with the selectors, codes and messages of Go's internal/check.

import { codeOf, Code, QtalkError } from "../rpc/errors.js";
import { RespondMux } from "../rpc/respondmux.js";
import type { Call, Responder } from "../rpc/server.js";

/** The prefix pattern the protocol is served under. */
export const Prefix = "check:";

// The selectors of the protocol.
export const Echo = `${Prefix}echo`;
export const Metadata = `${Prefix}metadata`;
export const Fail = `${Prefix}fail`;
export const Stream = `${Prefix}stream`;
export const Sum = `${Prefix}sum`;
export const Bytes = `${Prefix}bytes`;
export const Callback = `${Prefix}callback`;

/** The largest count check:stream takes. */
export const MaxStream = 10000;

/**
 * A mux serving the protocol with the selectors stripped of Prefix;
 * register it under Prefix: root.handle(Prefix, handler()).
 */
export function handler(): RespondMux {
  return new RespondMux()
    .handle("echo", echo)
    .handle("metadata", metadata)
    .handle("fail", fail)
    .handle("stream", stream)
    .handle("sum", sum)
    .handle("bytes", echoBytes)
    .handle("callback", callback);
}

/** check:echo: replies its argument, decoded and encoded again. */
export function echo(_r: Responder, call: Call): Promise<unknown> {
  return call.receiveArgs();
}

async function metadata(_r: Responder, call: Call): Promise<Record<string, string>> {
  await call.receiveArgs();
  return Object.fromEntries(call.metadata);
}

function invalid(message: string): QtalkError {
  return new QtalkError(Code.InvalidArgument, message);
}

/**
 * The value of the text key name in a map argument, matched as Go matches
 * struct fields: exactly, or else without regard to case.
 */
function field(args: unknown, name: string): unknown {
  const entries: [unknown, unknown][] =
    args instanceof Map ? [...args] : typeof args === "object" && args !== null && !Array.isArray(args) && !(args instanceof Uint8Array) ? Object.entries(args) : [];
  const exact = entries.find(([k]) => k === name);
  if (exact !== undefined) return exact[1];
  return entries.find(([k]) => typeof k === "string" && k.toLowerCase() === name)?.[1];
}

async function fail(_r: Responder, call: Call): Promise<never> {
  const args = await call.receiveArgs();
  // null stands for the empty map, as Go decodes it into the zero Failure.
  const isMap = args === null || args instanceof Map || (typeof args === "object" && !Array.isArray(args) && !(args instanceof Uint8Array));
  const code = field(args, "code") ?? 0;
  const message = field(args, "message") ?? "";
  if (!isMap || typeof code !== "number" || !Number.isInteger(code) || code < 0 || code > 0xffffffff || typeof message !== "string") {
    throw invalid(`check:fail: want {"code": an unsigned integer, "message": a text string}, got ${describe(args)}`);
  }
  if (code === 0 || code > Code.Unauthenticated) {
    throw invalid(`check:fail: code ${code} is not an error code (1..16)`);
  }
  throw new QtalkError(code, message);
}

/** The integer v as a bigint, if it is one within the signed 64-bit range. */
function int64(v: unknown): bigint | undefined {
  const n = typeof v === "number" && Number.isInteger(v) ? BigInt(v) : typeof v === "bigint" ? v : undefined;
  return n !== undefined && BigInt.asIntN(64, n) === n ? n : undefined;
}

async function stream(r: Responder, call: Call): Promise<void> {
  const args = await call.receiveArgs();
  const n = args === null ? 0n : int64(args); // Go decodes null into its int as 0
  if (n === undefined) throw invalid(`check:stream: want an integer count, got ${describe(args)}`);
  if (n < 0n || n > BigInt(MaxStream)) throw invalid(`check:stream: count ${n} out of range 0..${MaxStream}`);
  await r.continue(null);
  for (let i = 0; i < Number(n); i++) {
    try {
      await r.send(i);
    } catch {
      return; // the client closed the call: the stream is over
    }
  }
}

async function sum(r: Responder, call: Call): Promise<void> {
  await call.receiveArgs();
  await r.continue(null);
  let total = 0n;
  try {
    for await (const v of call) {
      const n = int64(v);
      if (n === undefined) throw invalid(`check:sum: want integers from -2^63 to 2^63-1, got ${describe(v)}`);
      total = BigInt.asIntN(64, total + n); // wraps around as Go's int64 does
    }
  } catch (err) {
    await r.error(err);
    return;
  }
  await r.send(Number.isSafeInteger(Number(total)) ? Number(total) : total);
}

async function echoBytes(r: Responder, call: Call): Promise<void> {
  await call.receiveArgs();
  await r.continue(null);
  const conn = r.conn();
  try {
    for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) {
      await conn.write(chunk);
    }
    await conn.closeWrite();
  } catch {
    // The client closed the call: nothing is left to echo or to tell it.
  }
}

async function callback(_r: Responder, call: Call): Promise<unknown> {
  const v = await call.receiveArgs();
  const timeout = call.deadline === undefined ? undefined : Math.max(0, call.deadline - performance.now());
  try {
    return await call.caller.call(Echo, v, { signal: call.signal, ...(timeout === undefined ? {} : { timeout }) });
  } catch (err) {
    // As Go wraps the error: the callback's code, its message prefixed.
    const why = err instanceof QtalkError ? err.message : err instanceof Error ? err.message : String(err);
    throw new QtalkError(codeOf(err), `check:callback: calling back ${Echo}: ${why}`, { cause: err });
  }
}

/** A short description of a decoded value, for error messages. */
function describe(v: unknown): string {
  if (v === null) return "null";
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (Array.isArray(v)) return "an array";
  if (v instanceof Map || typeof v === "object") return "a map";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}
