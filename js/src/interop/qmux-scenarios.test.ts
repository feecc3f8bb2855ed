import { test } from "node:test";
import assert from "node:assert/strict";
import { Session } from "../qmux/index.js";
import { memoryPair } from "../transport/memory.js";
import { echoSession, qmuxScenarios } from "./qmux-scenarios.js";
import { runSteps } from "./results.js";

function sessionPair(): [Session, Session] {
  const [a, b] = memoryPair();
  return [new Session(a), new Session(b)];
}

test("every scenario passes against the TypeScript echo, and peer-closes ends the session", async () => {
  const [driver, echoer] = sessionPair();
  const echoed = echoSession(echoer);
  const results = await runSteps(qmuxScenarios(driver), undefined, 30_000);
  assert.deepEqual(results, [
    { name: "channels-100", ok: true },
    { name: "transfer-8mb", ok: true },
    { name: "half-close", ok: true },
    { name: "slow-reader", ok: true },
    { name: "peer-closes", ok: true },
  ]);
  // The echo closed its session on close-session: a local close, no error.
  assert.equal(await echoed, undefined);
});

test("the scenarios without peer-closes leave the session open, and the transfer's name says its size", async () => {
  const [driver, echoer] = sessionPair();
  const echoed = echoSession(echoer);
  const results = await runSteps(qmuxScenarios(driver, { transferBytes: 2_000_000, peerCloses: false }), undefined, 30_000);
  assert.deepEqual(
    results.map((r) => [r.name, r.ok]),
    [["channels-100", true], ["transfer-2mb", true], ["half-close", true], ["slow-reader", true]],
  );
  await driver.close();
  // The driver's close ends the echo's stream cleanly.
  assert.equal(await echoed, undefined);
});

/** Echoes each channel except the last byte before the driver's EOF: every echo comes back one byte short. */
async function echoDroppingLastByte(session: Session): Promise<void> {
  for (;;) {
    const ch = await session.accept().catch(() => undefined);
    if (ch === undefined) return;
    void (async () => {
      let last: Uint8Array | undefined; // held back until more comes, and dropped at the EOF
      try {
        for (let chunk = await ch.read(); chunk !== null; chunk = await ch.read()) {
          if (last !== undefined) await ch.write(last);
          if (chunk.length > 1) await ch.write(chunk.subarray(0, chunk.length - 1));
          last = chunk.subarray(chunk.length - 1);
        }
        await ch.closeWrite();
      } catch {
        // The driver closed the channel.
      } finally {
        await ch.close();
      }
    })();
  }
}

test("an echo that drops the last byte fails the scenarios that compare what comes back", async () => {
  const [driver, echoer] = sessionPair();
  void echoDroppingLastByte(echoer);
  const results = await runSteps(qmuxScenarios(driver, { transferBytes: 1_000_000, peerCloses: false }), undefined, 30_000);
  assert.deepEqual(
    results.map((r) => [r.name, r.ok]),
    [["channels-100", false], ["transfer-1mb", false], ["half-close", false], ["slow-reader", false]],
  );
  assert.match(results[0]!.error!, /ScenarioError: channel \d+ of 100: 65535 bytes came back, want 65536/);
  assert.match(results[1]!.error!, /999999 bytes came back, want 1000000/);
  await driver.close();
});
