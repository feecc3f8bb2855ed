// A smoke test against the real Go server: `qtalk serve` over ws and tcp.
// Skipped when Go or the build is not available here.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { dial } from "../transport/registry.js";
import { registerNodeConnectors } from "./connectors.js";
import { guard } from "./transport.test.util.js";

registerNodeConnectors();

const repo = fileURLToPath(new URL("../../../", import.meta.url));

test("Go's qtalk serve accepts channels from TS sessions over ws and tcp", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "qtalk-go-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const binary = join(dir, "qtalk");
  const build = spawnSync("go", ["build", "-o", binary, "./cmd/qtalk"], { cwd: repo, encoding: "utf8" });
  if (build.error !== undefined || build.status !== 0) {
    t.skip(`cannot build the Go server: ${build.error?.message ?? build.stderr.trim()}`);
    return;
  }
  const server = spawn(binary, ["serve", "--listen", "ws://127.0.0.1:0/qtalk", "--listen", "tcp://127.0.0.1:0"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  t.after(() => server.kill("SIGKILL"));
  const exited = new Promise((resolve) => server.once("exit", resolve));

  // "[... INFO listener/1] listening addr=ws://127.0.0.1:41645/qtalk"
  const addresses: string[] = [];
  for await (const line of createInterface({ input: server.stderr! })) {
    const m = / listening addr=(\S+)$/.exec(line);
    if (m) addresses.push(m[1]!);
    if (addresses.length === 2) break;
  }
  assert.equal(addresses.length, 2, "the server logged both listeners");
  assert.deepEqual(addresses.map((a) => a.split(":")[0]).sort(), ["tcp", "ws"]);

  for (const address of addresses) {
    const session = await dial(address, { signal: AbortSignal.timeout(guard.timeout) });
    const ch = await session.open();
    // Not an rpc call: the server answers or hangs up on this channel, and
    // either way the read ends.
    await ch.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await ch.closeWrite();
    for (;;) {
      const part = await ch.read().catch(() => null);
      if (part === null) break;
    }
    // The session is still usable after that channel.
    await (await session.open()).close();
    await session.close();
    assert.equal(await session.done, undefined, `${address}: the session ended cleanly`);
  }
  server.kill("SIGTERM");
  await exited;
});
