#!/usr/bin/env node
// qtalk-js: the package's command line. "serve" serves the interop check
// protocol, "check" runs the checker; see cli.ts for the arguments.

import { Checker, caseNames } from "../check/checker.js";
import * as check from "../check/protocol.js";
import { slowFixtures, slowPrefix } from "../interop/slow-fixtures.js";
import type { Session } from "../mux.js";
import { dial, listen, Peer, RespondMux, type Listener } from "../node.js";
import { fail as failWith, log } from "./log.js";
import { exitFailure, exitOK, exitUsage, formatCaseLine, parseCommand, UsageError, type Command } from "./cli.js";

/** The exit status after SIGINT or SIGTERM stopped a check, as Go's qtalk has it. */
const exitInterrupted = 130;

function fail(message: string): void {
  failWith("qtalk-js", message);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves when the process gets SIGINT or SIGTERM. */
function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}

async function main(args: readonly string[]): Promise<number> {
  let cmd: Command;
  try {
    cmd = parseCommand(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    fail(err.message);
    return exitUsage;
  }
  switch (cmd.name) {
    case "help":
      process.stdout.write(cmd.text);
      return exitOK;
    case "serve":
      return serve(cmd.listens, cmd.upstreamFixtures);
    case "check":
      return runCheck(cmd.target, cmd.timeoutMs);
  }
}

let sessionCount = 0;

/** Serves handler on a session and logs its end; resolves when it ended. */
async function serveSession(session: Session, handler: RespondMux): Promise<void> {
  const id = ++sessionCount;
  log(`session/${id}`, `session opened remote=${session.remoteAddress ?? "unknown"}`);
  const peer = new Peer(session, { handler });
  const err = await session.done;
  log(`session/${id}`, err ? `session ended: ${err.message}` : "session closed");
  await peer.served;
}

/** Accepts sessions until the listener closes: one only on stdio:, whose end is the server's. */
async function acceptLoop(ln: Listener, handler: RespondMux): Promise<void> {
  if (ln.address === "stdio:") return serveSession(await ln.accept(), handler);
  for (;;) {
    let session: Session;
    try {
      session = await ln.accept();
    } catch {
      return; // the listener closed
    }
    void serveSession(session, handler);
  }
}

async function serve(listens: readonly string[], upstreamFixtures: boolean): Promise<number> {
  const handler = new RespondMux().handle(check.Prefix, check.handler()).handle("echo:echo", check.echo);
  if (upstreamFixtures) handler.handle(slowPrefix, slowFixtures());
  const listeners: Listener[] = [];
  try {
    for (const [i, address] of listens.entries()) {
      const ln = await listen(address);
      listeners.push(ln);
      log(`listener/${i + 1}`, `listening addr=${ln.address}`);
    }
  } catch (err) {
    await Promise.all(listeners.map((ln) => ln.close()));
    fail(`serve: ${messageOf(err)}`);
    return exitFailure;
  }
  const loops = listeners.map((ln) => acceptLoop(ln, handler));
  const stdioLoop = loops[listeners.findIndex((ln) => ln.address === "stdio:")];
  await Promise.race([interrupted(), ...(stdioLoop ? [stdioLoop] : [])]);
  await Promise.all(listeners.map((ln) => ln.close()));
  return exitOK;
}

async function runCheck(target: string, timeoutMs: number): Promise<number> {
  const checker = new Checker({ timeoutMs });
  let session: Session;
  try {
    session = await dial(target);
  } catch (err) {
    fail(`check: ${messageOf(err)}`);
    return exitFailure;
  }
  const peer = new Peer(session, { handler: checker.handler() });
  const stop = new AbortController();
  let stopped = false;
  void interrupted().then(() => {
    stopped = true;
    stop.abort(new Error("interrupted"));
  });
  process.stdout.write(`checking ${target}\n`);
  const width = Math.max(...caseNames.map((n) => n.length));
  const results = await checker.run(session, {
    signal: stop.signal,
    report: (r) => process.stdout.write(`${formatCaseLine(r.name, width, r.elapsedMs, r.error)}\n`),
  });
  await peer.close();
  if (stopped) {
    fail("interrupted");
    return exitInterrupted;
  }
  const failed = results.filter((r) => r.error !== undefined).length;
  process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
  if (failed > 0) {
    fail(`check: ${failed} of ${results.length} cases failed against ${target}: check failed`);
    return exitFailure;
  }
  return exitOK;
}

// Exits explicitly: open sessions and sockets would keep the process alive.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    fail(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(exitFailure);
  },
);
