import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { caseNames } from "../check/checker.js";

const bin = fileURLToPath(new URL("./qtalk.js", import.meta.url));

/** Runs the bin to its end and returns its exit status and output. */
async function runBin(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (b: Buffer) => (stdout += b));
  child.stderr!.on("data", (b: Buffer) => (stderr += b));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

/**
 * Waits for the first "listening addr=" line on child's stderr and returns
 * the address. It keeps reading stderr after, so the child's later logs
 * do not fill the pipe or hit a closed one.
 */
function listeningAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      seen += chunk;
      const m = /listening addr=(\S+)/.exec(seen);
      if (m) resolve(m[1]!);
    });
    child.once("exit", () => reject(new Error(`the server ended without a listening line: ${seen}`)));
  });
}

/** Asserts that stdout is a check that passed every case against target. */
function assertAllPassed(stdout: string, target: string): void {
  const lines = stdout.trimEnd().split("\n");
  assert.equal(lines[0], `checking ${target}`);
  assert.deepEqual(
    lines.slice(1, -1).map((l) => /^PASS  (.+?) {2,}\S+$/.exec(l)?.[1]?.trim()),
    caseNames,
    stdout,
  );
  assert.equal(lines.at(-1), `${caseNames.length} passed, 0 failed`);
}

test("check passes every case against serve over tcp, and serve exits 0 on SIGTERM", { timeout: 60_000 }, async () => {
  const server = spawn(process.execPath, [bin, "serve", "--listen", "tcp://127.0.0.1:0"], { stdio: ["ignore", "ignore", "pipe"] });
  try {
    const address = await listeningAddress(server);
    assert.match(address, /^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
    const { code, stdout } = await runBin(["check", address]);
    assertAllPassed(stdout, address);
    assert.equal(code, 0);
  } finally {
    server.kill("SIGTERM");
  }
  const [code] = (await once(server, "exit")) as [number | null];
  assert.equal(code, 0);
});

test("check starts a command and checks it over its stdio", { timeout: 60_000 }, async () => {
  const command = `${process.execPath} ${bin} serve --listen stdio:`;
  const { code, stdout } = await runBin(["check", command]);
  assertAllPassed(stdout, `exec:${command}`);
  assert.equal(code, 0);
});

test("usage errors exit 2 with one line on stderr; --help exits 0", async () => {
  const bad = await runBin(["serve"]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, "qtalk-js: serve: want at least one --listen ADDR (see qtalk-js serve --help)\n");
  const help = await runBin(["check", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: qtalk-js check/);
});

test("check against an address where nothing listens fails with status 1, saying why", async () => {
  const { code, stderr } = await runBin(["check", "unix:///nonexistent/qtalk-js.sock"]);
  assert.equal(code, 1);
  assert.match(stderr, /^qtalk-js: check: transport: dial unix:\/\/\/nonexistent\/qtalk-js\.sock: /);
});
