import { test } from "node:test";
import assert from "node:assert/strict";
import { Session } from "../qmux/index.js";
import { Code, QtalkError } from "../rpc/errors.js";
import { Peer } from "../rpc/peer.js";
import { RespondMux } from "../rpc/respondmux.js";
import { memoryPair } from "../transport/memory.js";
import { slowFixtures, slowPrefix } from "./slow-fixtures.js";

/** Runs fn with a client of the fixtures; onCall sees each call as it reaches the server. */
async function withFixtures(fn: (client: Peer) => Promise<void>, onCall: (selector: string) => void = () => {}): Promise<void> {
  const [a, b] = memoryPair();
  const fixtures = slowFixtures();
  const server = new Peer(new Session(a), {
    handler: new RespondMux().handle(slowPrefix, (r, call) => {
      onCall(call.fullSelector);
      return fixtures.respondRPC(r, call);
    }),
  });
  const client = new Peer(new Session(b));
  try {
    await fn(client);
  } finally {
    await client.close();
    await server.close();
  }
}

test("slow:wait records how its call was cancelled, and slow:cancelled replies it", async () => {
  let waitArrived!: () => void;
  const arrived = new Promise<void>((resolve) => (waitArrived = resolve));
  await withFixtures(async (c) => {
    const controller = new AbortController();
    const waiting = c.call("slow:wait", "t1", { signal: controller.signal });
    // Asked before the abort, slow:cancelled waits for the record.
    const answer = c.call("slow:cancelled", "t1");
    await arrived; // aborted once the server has the call, as the gateway test does
    controller.abort();
    await assert.rejects(waiting, (err: unknown) => err instanceof QtalkError && err.code === Code.Canceled);
    assert.equal(await answer, "canceled");

    await assert.rejects(c.call("slow:wait", "t2", { timeout: 50 }), (err: unknown) => err instanceof QtalkError && err.code === Code.DeadlineExceeded);
    assert.equal(await c.call("slow:cancelled", "t2"), "deadline_exceeded");
  }, (selector) => {
    if (selector === "slow:wait") waitArrived();
  });
});

test("slow:cancelled fails with not_found for a token never cancelled, and both want a text token", { timeout: 20_000 }, async () => {
  await withFixtures(async (c) => {
    await assert.rejects(c.call("slow:cancelled", "never"), (err: unknown) => err instanceof QtalkError && err.code === Code.NotFound && /no cancellation of "never" within 5 s/.test(err.message));
    await assert.rejects(c.call("slow:wait", 42), (err: unknown) => err instanceof QtalkError && err.code === Code.InvalidArgument);
  });
});

test("slow:started replies once a wait of the token runs", async () => {
  await withFixtures(async (c) => {
    const controller = new AbortController();
    const waiting = c.call("slow:wait", "t3", { signal: controller.signal });
    assert.equal(await c.call("slow:started", "t3"), true);
    controller.abort();
    await assert.rejects(waiting, (err: unknown) => err instanceof QtalkError && err.code === Code.Canceled);
    assert.equal(await c.call("slow:cancelled", "t3"), "canceled");
  });
});
