import { test } from "node:test";
import assert from "node:assert/strict";
import * as check from "../check/protocol.js";
import { Session } from "../qmux/index.js";
import { Peer } from "../rpc/peer.js";
import { RespondMux } from "../rpc/respondmux.js";
import { memoryPair } from "../transport/memory.js";
import { gatewaySteps } from "./gateway-steps.js";
import { runSteps } from "./results.js";
import { slowFixtures } from "./slow-fixtures.js";

/** Runs the steps for module against a peer serving what a gateway would forward under mod: and mod-slow:. */
async function runAgainst(module: string) {
  const [a, b] = memoryPair();
  const server = new Peer(new Session(a), {
    handler: new RespondMux().handle("mod:", check.handler()).handle("mod-slow:", slowFixtures()),
  });
  const client = new Peer(new Session(b));
  try {
    return await runSteps(gatewaySteps(client, module), undefined, 20_000);
  } finally {
    await client.close();
    await server.close();
  }
}

test("the gateway steps pass against the check protocol and the slow fixtures under the module's names", async () => {
  assert.deepEqual(await runAgainst("mod"), [
    { name: "unary", ok: true },
    { name: "server-stream", ok: true },
    { name: "client-stream", ok: true },
    { name: "bytes", ok: true },
    { name: "cancel", ok: true },
    { name: "deadline", ok: true },
  ]);
});

test("through a module nothing serves, every step fails", async () => {
  const results = await runAgainst("other");
  assert.deepEqual(results.map((r) => r.ok), [false, false, false, false, false, false]);
  assert.match(results[0]!.error!, /rpc: not_found: no handler for "other:echo"/);
  assert.match(results[4]!.error!, /no handler for "other-slow:started"/);
});
