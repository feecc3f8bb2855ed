// The client of the Go gateway test (Node): node gateway-client.js ADDR MODULE
// runs the steps of gateway-steps.ts through the gateway at ADDR, printing
// "PASS name" or "FAIL name: error" each; the status is 1 if any failed.

import { fail } from "../bin/log.js";
import { dial, Peer } from "../node.js";
import { gatewaySteps } from "./gateway-steps.js";
import { formatStepResult, runSteps } from "./results.js";

async function main(args: readonly string[]): Promise<number> {
  if (args.length !== 2) {
    fail("gateway-client", "usage: node gateway-client.js ADDR MODULE");
    return 2;
  }
  const [address, module] = args as [string, string];
  const peer = new Peer(await dial(address));
  const results = await runSteps(gatewaySteps(peer, module), (r) => process.stdout.write(`${formatStepResult(r)}\n`));
  await peer.close();
  return results.every((r) => r.ok) ? 0 : 1;
}

// Exits explicitly: the session's socket would keep the process alive.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    fail("gateway-client", err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
