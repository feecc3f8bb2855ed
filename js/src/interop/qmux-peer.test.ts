import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import * as net from "node:net";
import { fileURLToPath } from "node:url";

const program = fileURLToPath(new URL("./qmux-peer.js", import.meta.url));

/** Resolves with the first stderr line of child matching re (its first group), reading on after. */
function stderrMatch(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      seen += chunk;
      const m = re.exec(seen);
      if (m) resolve(m[1]!);
    });
    child.once("exit", () => reject(new Error(`exited before ${re}: ${seen}`)));
  });
}

test("drive passes every scenario against listen, and listen logs a session broken by bad bytes", { timeout: 120_000 }, async () => {
  const listener = spawn(process.execPath, [program, "listen", "tcp://127.0.0.1:0"], { stdio: ["ignore", "ignore", "pipe"] });
  try {
    const address = await stderrMatch(listener, /listening addr=(\S+)/);
    const driver = spawn(process.execPath, [program, "drive", address], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    driver.stdout!.on("data", (b: Buffer) => (stdout += b));
    const [code] = (await once(driver, "exit")) as [number | null];
    assert.equal(stdout, ["channels-100", "transfer-8mb", "half-close", "slow-reader", "peer-closes"].map((n) => `PASS ${n}\n`).join(""));
    assert.equal(code, 0);

    // A message type qmux does not have ends that session with a protocol error; the listener goes on.
    const ended = stderrMatch(listener, /(session ended: .*)/);
    const { port } = new URL(address.replace("tcp:", "http:"));
    const socket = net.connect(Number(port), "127.0.0.1", () => socket.write(Uint8Array.of(0xff, 0, 0, 0, 0)));
    socket.on("error", () => {}); // the peer closes it
    assert.match(await ended, /^session ended: mux: protocol error: /);
    socket.destroy();
  } finally {
    listener.kill();
  }
});

test("a bad command line exits 2 with the usage", async () => {
  const child = spawn(process.execPath, [program, "serve"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b));
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 2);
  assert.match(stderr, /^qmux-peer: usage: node qmux-peer.js listen ADDR \| drive ADDR\n$/);
});
