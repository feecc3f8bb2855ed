import { test } from "node:test";
import assert from "node:assert/strict";
import { checkTarget, formatCaseLine, formatDuration, parseCommand, parseDuration, roundLatencyNs, UsageError } from "./cli.js";

test("serve takes repeated --listen addresses and --upstream-fixtures", () => {
  assert.deepEqual(parseCommand(["serve", "--listen", "tcp://127.0.0.1:0", "--listen=stdio:", "--upstream-fixtures"]), {
    name: "serve",
    listens: ["tcp://127.0.0.1:0", "stdio:"],
    upstreamFixtures: true,
  });
  assert.deepEqual(parseCommand(["serve", "-listen", "ws://127.0.0.1:0/qtalk"]), {
    name: "serve",
    listens: ["ws://127.0.0.1:0/qtalk"],
    upstreamFixtures: false,
  });
});

test("check takes an address, a command, or the words after --, and a --timeout", () => {
  assert.deepEqual(parseCommand(["check", "tcp://127.0.0.1:4242"]), { name: "check", target: "tcp://127.0.0.1:4242", timeoutMs: 10_000 });
  assert.deepEqual(parseCommand(["check", "--timeout", "1m30s", "qtalk serve --listen stdio:"]), {
    name: "check",
    target: "exec:qtalk serve --listen stdio:",
    timeoutMs: 90_000,
  });
  assert.equal(checkTarget(["./server", "--name", "it's a!b"]), `exec:./server --name 'it'"'"'s a!b'`);
  assert.equal(checkTarget(["bin/server"]), "exec:bin/server");
  assert.deepEqual(parseCommand(["check", "--", "./server", "--stdio"]), { name: "check", target: "exec:./server --stdio", timeoutMs: 10_000 });
});

test("mistakes are usage errors that say what is wrong", () => {
  const cases: [string[], RegExp][] = [
    [[], /want a command/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["--listen", "x"], /flags go after the command/],
    [["serve"], /want at least one --listen ADDR/],
    [["serve", "--listen"], /flag needs an argument: -listen/],
    [["serve", "--listen", "tcp://"], /bad address "tcp:\/\/": missing host and port/],
    [["serve", "--port", "1"], /flag provided but not defined: -port/],
    [["serve", "--listen", "stdio:", "extra"], /unexpected argument "extra"/],
    [["serve", "--upstream-fixtures=yes", "--listen", "stdio:"], /takes no value/],
    [["check"], /want a COMMAND or an ADDR/],
    [["check", "foo://x"], /unknown scheme "foo"/],
    [["check", "tcp://"], /missing host and port/],
    [["check", "--timeout", "soon", "tcp://127.0.0.1:1"], /--timeout "soon": want a positive duration/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseCommand(args), (err: unknown) => err instanceof UsageError && message.test(err.message), args.join(" "));
  }
});

test("--help gives each command's usage", () => {
  for (const [args, start] of [
    [["--help"], "qtalk-js serves and checks"],
    [["serve", "--help"], "usage: qtalk-js serve"],
    [["check", "-h", "tcp://x:1"], "usage: qtalk-js check"],
  ] as const) {
    const cmd = parseCommand(args);
    assert.equal(cmd.name, "help");
    assert.ok(cmd.name === "help" && cmd.text.startsWith(start), args.join(" "));
  }
});

test("durations parse and print as Go's", () => {
  assert.equal(parseDuration("10s"), 10_000);
  assert.equal(parseDuration("1.5ms"), 1.5);
  assert.equal(parseDuration("1h2m"), 3_720_000);
  assert.equal(parseDuration("10"), undefined);
  assert.equal(parseDuration(""), undefined);
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(999), "999ns");
  assert.equal(formatDuration(895_400), "895.4µs");
  assert.equal(formatDuration(27_870_000), "27.87ms");
  assert.equal(formatDuration(2_000_000), "2ms");
  assert.equal(formatDuration(10_001_000_000), "10.001s");
  assert.equal(formatDuration(90_500_000_000), "1m30.5s");
  assert.equal(formatDuration(3_600_000_000_000), "1h0m0s");
  assert.equal(roundLatencyNs(27_874_321), 27_870_000);
  assert.equal(roundLatencyNs(895_432), 895_400);
  assert.equal(roundLatencyNs(1_234_567_891), 1_235_000_000);
});

test("case lines are those of Go's qtalk check", () => {
  assert.equal(formatCaseLine("errors", 16, 11.14), "PASS  errors            11.14ms");
  assert.equal(
    formatCaseLine("callback", 16, 10_001, new Error("rpc: deadline_exceeded\nmore")),
    "FAIL  callback          10.001s  rpc: deadline_exceeded",
  );
});
