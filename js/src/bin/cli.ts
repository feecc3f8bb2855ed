// The command line of qtalk-js, apart from running it: arguments, usage
// texts, what check prints. The rules follow Go's cmd/qtalk.

import { QtalkError } from "../rpc/errors.js";
import { parseAddress } from "../transport/address.js";
import { isTransportError } from "../transport/errors.js";

/** Exit statuses, as Go's qtalk has them. */
export const exitOK = 0;
export const exitFailure = 1;
export const exitUsage = 2;

/** A mistake in the command line: the program exits with exitUsage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export const topUsage = `qtalk-js serves and checks qtalk peers: the TypeScript implementation's
side of the interop check (spec/check.md).

usage: qtalk-js COMMAND [flags] [arguments]

commands:
  serve   serve the interop check protocol and echo:echo
  check   run the interop check against a server or a program over stdio

Run 'qtalk-js COMMAND --help' for the flags and an example of each.

addresses: tcp://127.0.0.1:4242 (or tcp/$4:4242), unix:///path.sock,
ws://127.0.0.1:4243/qtalk, stdio:, exec:command args
`;

export const serveUsage = `usage: qtalk-js serve [flags]

Serve serves the interop check protocol (check:*, see spec/check.md) and
echo:echo on every --listen address until SIGINT or SIGTERM, then closes
its listeners and exits 0. It logs to stderr, one line per listener with
the address it listens on ("listening addr=tcp://127.0.0.1:4242": with
port 0, the port the system chose). With --listen stdio:, stdout carries
the session and nothing else is written to it; the server exits when that
session ends, so a parent can run it with exec:.

flags:
  --listen ADDR
        listen on ADDR (repeatable; at least one)
  --upstream-fixtures
        also serve slow:wait, slow:started and slow:cancelled, the fixtures of the gateway test

example:
  qtalk-js serve --listen tcp://127.0.0.1:0 --listen ws://127.0.0.1:0/qtalk
  qtalk check "qtalk-js serve --listen stdio:"
`;

export const checkUsage = `usage: qtalk-js check [flags] COMMAND|ADDR

Check runs the interop check against another implementation: unary calls
in CBOR and JSON, metadata, errors and their codes, an unknown selector,
bad arguments, server and client streams, concurrent calls, raw byte
streams of 1 B, 1 KiB and 1 MiB, and a callback from the server. It prints
PASS or FAIL for each case and exits with status 1 if any failed.

The argument is an address to dial, or else a command to start with its
stdin and stdout as the connection (the exec: transport): the program must
serve the check protocol over its stdio. Words after "--" are joined into
the command.

flags:
  --timeout DURATION
        bound each case (default 10s)

example:
  qtalk-js check tcp://127.0.0.1:4242
  qtalk-js check "qtalk serve --listen stdio:"
  qtalk-js check -- ./my-server --stdio
`;

export type Command =
  | { name: "help"; text: string }
  | { name: "serve"; listens: string[]; upstreamFixtures: boolean }
  | { name: "check"; target: string; timeoutMs: number };

/**
 * Parses the arguments after the program's name. Flags and positional
 * arguments mix; "--" ends the flags; a flag's value follows it or comes
 * after "=". Throws a UsageError for a mistake.
 */
export function parseCommand(args: readonly string[]): Command {
  const [name, ...rest] = args;
  switch (name) {
    case undefined:
      throw new UsageError("want a command: serve or check (see qtalk-js --help)");
    case "-h":
    case "-help":
    case "--help":
    case "help":
      return { name: "help", text: topUsage };
    case "serve": {
      const { flags, positional, help } = parseFlags("serve", rest, { listen: "value", "upstream-fixtures": "bool" });
      if (help) return { name: "help", text: serveUsage };
      if (positional.length > 0) throw new UsageError(`serve: unexpected argument ${JSON.stringify(positional[0])} (addresses go in --listen)`);
      const listens = flags.get("listen") ?? [];
      if (listens.length === 0) throw new UsageError("serve: want at least one --listen ADDR (see qtalk-js serve --help)");
      for (const a of listens) {
        try {
          parseAddress(a);
        } catch (err) {
          throw new UsageError(`serve: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return { name: "serve", listens, upstreamFixtures: flags.has("upstream-fixtures") };
    }
    case "check": {
      const { flags, positional, help } = parseFlags("check", rest, { timeout: "value" });
      if (help) return { name: "help", text: checkUsage };
      if (positional.length === 0) throw new UsageError("check: want a COMMAND or an ADDR (see qtalk-js check --help)");
      const timeout = flags.get("timeout")?.at(-1);
      const timeoutMs = timeout === undefined ? 10_000 : parseDuration(timeout);
      if (timeoutMs === undefined || timeoutMs <= 0) {
        throw new UsageError(`check: --timeout ${JSON.stringify(timeout)}: want a positive duration such as 10s or 500ms`);
      }
      return { name: "check", target: checkTarget(positional), timeoutMs };
    }
  }
  const hint = name.startsWith("-") ? "; flags go after the command, e.g. qtalk-js serve --listen stdio:" : "";
  throw new UsageError(`unknown command ${JSON.stringify(name)} (commands: serve, check; see qtalk-js --help)${hint}`);
}

type FlagKind = "value" | "bool";

function parseFlags(
  command: string,
  args: readonly string[],
  known: Record<string, FlagKind>,
): { flags: Map<string, string[]>; positional: string[]; help: boolean } {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const flag = eq < 0 ? body : body.slice(0, eq);
    if (flag === "h" || flag === "help") return { flags, positional, help: true };
    const kind = known[flag];
    if (kind === undefined) throw new UsageError(`${command}: flag provided but not defined: -${flag} (see qtalk-js ${command} --help)`);
    let value: string;
    if (kind === "bool") {
      if (eq >= 0) throw new UsageError(`${command}: flag --${flag} takes no value`);
      value = "true";
    } else if (eq >= 0) {
      value = body.slice(eq + 1);
    } else {
      if (i + 1 >= args.length) throw new UsageError(`${command}: flag needs an argument: -${flag} (see qtalk-js ${command} --help)`);
      value = args[++i]!;
    }
    flags.set(flag, [...(flags.get(flag) ?? []), value]);
  }
  return { flags, positional, help: false };
}

/** Matches the start of what is meant as an address: a scheme followed by ":" or "/". */
const schemeLike = /^[A-Za-z][A-Za-z0-9+.-]*[:/]/;

/**
 * The address to check, as Go's qtalk check takes it: the argument if it
 * is an address; else an exec: address for the command of the arguments.
 * One that looks like an address but does not parse is a usage error.
 */
export function checkTarget(args: readonly string[]): string {
  if (args.length === 1) {
    const arg = args[0]!;
    try {
      parseAddress(arg);
      return arg;
    } catch (err) {
      const unknown = isTransportError(err, "unknown_scheme");
      if ((unknown && arg.includes("://")) || (!unknown && schemeLike.test(arg))) {
        throw new UsageError(`check: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return `exec:${arg}`; // a command, such as "qtalk serve --listen stdio:"
  }
  return `exec:${args.map(quoteWord).join(" ")}`;
}

/** Quotes a word of a command line as exec: addresses read it; a "!" too, lest it read as a subport. */
function quoteWord(w: string): string {
  if (w !== "" && !/[ \t'"!]/.test(w)) return w;
  return `'${w.replaceAll("'", `'"'"'`)}'`;
}

const units: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go duration ("10s", "1m30s", "250ms"), or undefined if it is not one. */
export function parseDuration(s: string): number | undefined {
  if (!/^(\d+(\.\d*)?(ns|us|µs|ms|s|m|h))+$/.test(s)) return undefined;
  let ms = 0;
  for (const [, n, , unit] of s.matchAll(/(\d+(\.\d*)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * units[unit!]!;
  return ms;
}

/** Rounds a latency for printing, as Go's qtalk does: fewer digits for longer times. */
export function roundLatencyNs(ns: number): number {
  const step = ns >= 1e9 ? 1e6 : ns >= 1e6 ? 1e4 : ns >= 1e3 ? 100 : 1;
  return Math.round(ns / step) * step;
}

/** A duration in nanoseconds as Go's time.Duration prints it: "1.23ms", "512.3µs", "1m2.5s". */
export function formatDuration(ns: number): string {
  ns = Math.round(ns);
  if (ns === 0) return "0s";
  if (ns < 0) return `-${formatDuration(-ns)}`;
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${decimal(ns, 3)}µs`;
  if (ns < 1e9) return `${decimal(ns, 6)}ms`;
  const hours = Math.floor(ns / 3600e9);
  const minutes = Math.floor(ns / 60e9) % 60;
  const seconds = `${decimal(ns % 60e9, 9)}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  return minutes > 0 ? `${minutes}m${seconds}` : seconds;
}

/** n / 10^digits with the fraction's trailing zeros dropped. */
function decimal(n: number, digits: number): string {
  const scale = 10 ** digits;
  const whole = Math.floor(n / scale);
  const fraction = String(n % scale).padStart(digits, "0").replace(/0+$/, "");
  return fraction === "" ? String(whole) : `${whole}.${fraction}`;
}

/** One line of check's output, as Go's qtalk check prints it. */
export function formatCaseLine(name: string, width: number, elapsedMs: number, error?: unknown): string {
  const elapsed = formatDuration(roundLatencyNs(elapsedMs * 1e6));
  const padded = name.padEnd(width);
  if (error === undefined) return `PASS  ${padded}  ${elapsed}`;
  // Go prints err.Error(): an rpc error with its code, others by their message.
  const text = error instanceof QtalkError ? error.toString() : error instanceof Error ? error.message : String(error);
  return `FAIL  ${padded}  ${elapsed}  ${firstLine(text)}`;
}

function firstLine(s: string): string {
  const i = s.indexOf("\n");
  return i < 0 ? s : s.slice(0, i).trim();
}
