// The browser part of the TypeScript suite, run by the Go interop test in
// chromium from a page whose origin also serves two WebSockets: /qmux, a Go
// peer echoing every channel, and /qtalk, a Go server of the check
// protocol. It runs the qmux scenarios and the check's cases, and publishes
// the outcome as window.qtalkSuite and in <pre id="results">.

import { Checker } from "../check/checker.js";
import { Peer, dial } from "../index.js";
import { qmuxScenarios } from "../interop/qmux-scenarios.js";
import { describeError, formatStepResult, runSteps, type StepResult } from "../interop/results.js";

/** What the suite publishes; done is set last. */
interface SuiteOutcome {
  done: boolean;
  passed: number;
  failed: number;
  results: StepResult[];
}

/** The transfer's size in the browser: the 8 MB of the Node driver would only slow the test. */
const browserTransferBytes = 2_000_000;

const results: StepResult[] = [];
const shown = document.getElementById("results") ?? document.body.appendChild(document.createElement("pre"));
shown.id = "results";

function record(r: StepResult): void {
  results.push(r);
  shown.textContent += `${formatStepResult(r)}\n`;
}

/** Runs part, recording a failure named name if it throws (connecting failed, say). */
async function guarded(name: string, part: () => Promise<void>): Promise<void> {
  try {
    await part();
  } catch (err) {
    record({ name, ok: false, error: describeError(err) });
  }
}

const base = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;

await guarded("qmux: connect", async () => {
  const session = await dial(`${base}/qmux`);
  try {
    const steps = qmuxScenarios(session, { transferBytes: browserTransferBytes, peerCloses: false });
    await runSteps(steps, (r) => record({ ...r, name: `qmux: ${r.name}` }));
  } finally {
    await session.close();
  }
});

await guarded("check: connect", async () => {
  const checker = new Checker();
  const peer = new Peer(await dial(`${base}/qtalk`), { handler: checker.handler() });
  try {
    await checker.run(peer.session, {
      report: (r) => record({ name: `check: ${r.name}`, ok: r.error === undefined, ...(r.error === undefined ? {} : { error: describeError(r.error) }) }),
    });
  } finally {
    await peer.close();
  }
});

const passed = results.filter((r) => r.ok).length;
const outcome: SuiteOutcome = { done: false, passed, failed: results.length - passed, results };
(globalThis as unknown as { qtalkSuite: SuiteOutcome }).qtalkSuite = outcome;
shown.textContent += `${outcome.passed} passed, ${outcome.failed} failed\n`;
outcome.done = true;
