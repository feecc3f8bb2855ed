// Errors of rpc calls, as Go's package rpc has them: a code (the numbers of
// gRPC), a message for people and details for programs.

import { isMuxError } from "../errors.js";

/** The codes of spec/rpc.md section 9, with gRPC's numbers. */
export const Code = {
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
  Unauthenticated: 16,
} as const;

/** A code: one of Code's values, or any other uint32 a peer sent. */
export type Code = number;

const codeNames = [
  "ok", "canceled", "unknown", "invalid_argument", "deadline_exceeded",
  "not_found", "already_exists", "permission_denied", "resource_exhausted",
  "failed_precondition", "aborted", "out_of_range", "unimplemented",
  "internal", "unavailable", "data_loss", "unauthenticated",
];

/** The name of code as Go prints it: "not_found", or "code_N" for codes it does not know. */
export function codeName(code: Code): string {
  return codeNames[code] ?? `code_${code}`;
}

const noDetails = new Uint8Array(0);

/** Options of a QtalkError. */
export interface QtalkErrorOptions {
  /** Bytes for programs, encoded by the application; empty when there are none. */
  details?: Uint8Array;
  /** The local cause, not sent. */
  cause?: unknown;
  /** The server did not process the call at all, so it may be sent again (a reply flag). */
  refused?: boolean;
}

/**
 * An error with a code: what handlers throw to answer with that code, and
 * what clients get for every error a server reported. message is the
 * message on the wire; toString() prints it as Go does ("rpc: not_found: no such").
 */
export class QtalkError extends Error {
  readonly code: Code;
  readonly details: Uint8Array;
  readonly refused: boolean;

  constructor(code: Code, message: string, options: QtalkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "QtalkError";
    this.code = code;
    this.details = options.details ?? noDetails;
    this.refused = options.refused ?? false;
  }

  /** The code's name: "not_found", "code_42". */
  get codeName(): string {
    return codeName(this.code);
  }

  override toString(): string {
    return this.message === "" ? `rpc: ${this.codeName}` : `rpc: ${this.codeName}: ${this.message}`;
  }
}

/** The prefix of the messages of errors about input that breaks the framing (spec/rpc.md section 10). */
export const malformedPrefix = "rpc: malformed frame";

/** An invalid_argument error about input that breaks the rpc framing. */
export function malformed(detail: string, cause?: unknown): QtalkError {
  return new QtalkError(Code.InvalidArgument, `${malformedPrefix}: ${detail}`, { cause });
}

/** Reports whether err is an error about input that breaks the rpc framing. */
export function isMalformed(err: unknown): boolean {
  return err instanceof QtalkError && err.code === Code.InvalidArgument && err.message.startsWith(malformedPrefix);
}

/**
 * The code of err: the code of the first QtalkError in its cause chain;
 * deadline_exceeded for a TimeoutError, canceled for an AbortError (the
 * reasons of aborted AbortSignals); unavailable when the mux session ended;
 * ok for null and undefined; unknown otherwise.
 */
export function codeOf(err: unknown): Code {
  if (err === undefined || err === null) return Code.OK;
  for (let e: unknown = err, i = 0; i < 16 && e !== undefined; e = (e as { cause?: unknown })?.cause, i++) {
    if (e instanceof QtalkError) return e.code;
    const name = (e as { name?: unknown })?.name;
    if (name === "TimeoutError") return Code.DeadlineExceeded;
    if (name === "AbortError") return Code.Canceled;
    if (!(e instanceof Error)) break;
  }
  if (isMuxError(err, "session_closed")) return Code.Unavailable;
  return Code.Unknown;
}

/**
 * The code an aborted signal's reason stands for: deadline_exceeded for a
 * TimeoutError (AbortSignal.timeout) or a QtalkError of that code, the
 * reason's own code for other QtalkErrors, canceled for anything else.
 */
export function abortCode(reason: unknown): Code {
  const code = codeOf(reason);
  return code === Code.Unknown || code === Code.OK ? Code.Canceled : code;
}

/** The error a call reports when its signal aborted: code from the reason, the reason as cause. */
export function abortError(what: string, reason: unknown): QtalkError {
  if (reason instanceof QtalkError && (reason.code === Code.Canceled || reason.code === Code.DeadlineExceeded)) {
    return reason;
  }
  const why = reason instanceof Error ? reason.message : String(reason);
  return new QtalkError(abortCode(reason), `rpc: ${what}: ${why}`, { cause: reason });
}

/** The error sent to the peer for err: a QtalkError as it is, anything else with codeOf's code and its message. */
export function toQtalkError(err: unknown): QtalkError {
  if (err instanceof QtalkError) return err;
  if (err instanceof Error) return new QtalkError(codeOf(err), err.message, { cause: err });
  return new QtalkError(Code.Internal, `handler threw ${String(err)}`, { cause: err });
}
