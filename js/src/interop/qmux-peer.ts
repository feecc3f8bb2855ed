// The raw qmux peer of the Go interop tests (Node):
//   node qmux-peer.js listen ADDR   echoes every channel of every session
//   node qmux-peer.js drive ADDR    runs the qmux scenarios against an echo at ADDR
// The scenarios and the echo are in qmux-scenarios.ts, which the browser suite shares.

import { fail, log } from "../bin/log.js";
import { dial, listen } from "../node.js";
import { echoSession, qmuxScenarios } from "./qmux-scenarios.js";
import { formatStepResult, runSteps } from "./results.js";

const usage = "usage: node qmux-peer.js listen ADDR | drive ADDR";

/** Echoes the sessions of ADDR until killed, logging each that ends with an error. */
async function listenAndEcho(address: string): Promise<never> {
  const ln = await listen(address);
  log("listener", `listening addr=${ln.address}`);
  for (;;) {
    const session = await ln.accept();
    void echoSession(session).then((err) => {
      if (err) log("session", `session ended: ${err.message}`);
    });
  }
}

/** Runs the scenarios over one session to ADDR; the status is 1 if any failed. */
async function drive(address: string): Promise<number> {
  const session = await dial(address);
  const results = await runSteps(qmuxScenarios(session), (r) => process.stdout.write(`${formatStepResult(r)}\n`));
  await session.close();
  return results.every((r) => r.ok) ? 0 : 1;
}

async function main(args: readonly string[]): Promise<number> {
  const [mode, address, ...rest] = args;
  if (address === undefined || rest.length > 0 || (mode !== "listen" && mode !== "drive")) {
    fail("qmux-peer", usage);
    return 2;
  }
  return mode === "listen" ? listenAndEcho(address) : drive(address);
}

// Exits explicitly: a session's sockets would keep the process alive.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    fail("qmux-peer", err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
