// exec:CMD ARGS: a child process's stdout and stdin as one Conn, as Go's
// transport/exec.go. The child's stderr is ours.

import { spawn, type ChildProcess } from "node:child_process";
import type { Conn, WaitOptions } from "../mux.js";
import { addressArgs, formatAddress, type Address } from "../transport/address.js";
import { TransportError } from "../transport/errors.js";
import type { Connector } from "../transport/registry.js";
import { nodeStreamConn } from "./stream-conn.js";

/** How long close() lets a child exit on the end of its stdin before killing it. */
export const execKillGraceMs = 1000;

/** A Conn to a child process. */
export interface ExecConn extends Conn {
  /** Settles when the child has exited: undefined for status 0, else an error naming the status or signal. */
  readonly exited: Promise<Error | undefined>;
}

/**
 * Starts the command of an exec address (split as addressArgs does) with
 * pipes for stdin and stdout, and returns a Conn over them. The readable
 * ends when the child's stdout does and the child has exited: cleanly for
 * exit status 0, else with an error naming the status. close() ends the
 * child's stdin and kills it if it has not exited within execKillGraceMs.
 */
export async function dialExec(a: Address, options: WaitOptions = {}): Promise<ExecConn> {
  const args = addressArgs(a);
  options.signal?.throwIfAborted();
  const child = spawn(args[0]!, args.slice(1), { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  return childConn(child, args[0]!, formatAddress(a));
}

/** Dials exec addresses with dialExec; listening is unsupported. */
export const execConnector: Connector = { dialConn: dialExec };

function childConn(child: ChildProcess, command: string, remoteAddress: string): ExecConn {
  const exited = new Promise<Error | undefined>((resolve) =>
    child.once("exit", (code, signal) => {
      if (code === 0) return resolve(undefined);
      const status = code !== null ? `exit status ${code}` : `signal: ${signal}`;
      resolve(new TransportError("closed", `transport: ${command}: ${status}`));
    }),
  );
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  void exited.then(() => clearTimeout(killTimer));
  const conn = nodeStreamConn(child.stdout!, child.stdin!, {
    remoteAddress,
    async onInputEnd() {
      const err = await exited;
      if (err) throw err;
    },
    // The child has gone, or closed its stdin: like Go, report its exit
    // status if it fails, whichever of read and write notices first.
    async writeError(err) {
      const exit = await exited;
      const message = exit ? `${exit.message} (write: ${err.message})` : `transport: write: ${err.message}`;
      return new TransportError("closed", message, { cause: err });
    },
    destroy() {
      child.stdin!.end();
      child.stdout!.destroy();
      if (child.exitCode === null && child.signalCode === null && killTimer === undefined) {
        killTimer = setTimeout(() => child.kill("SIGKILL"), execKillGraceMs);
      }
    },
  });
  return Object.assign(conn, { exited });
}
