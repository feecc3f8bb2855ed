// The table tests of Go's transport/address_test.go, with the same inputs
// and results.

import { test } from "node:test";
import assert from "node:assert/strict";
import { AddressError, addressArgs, formatAddress, parseAddress, type Address } from "./address.js";
import { isTransportError } from "./errors.js";

const A = (fields: Partial<Address>): Address => ({
  scheme: "",
  host: "",
  path: "",
  rawQuery: "",
  opaque: "",
  subport: "",
  ...fields,
});

// [input, fields, canonical form ("" if the input is canonical)]
const parseTests: [string, Address, string][] = [
  // URL form.
  ["tcp://127.0.0.1:4000", A({ scheme: "tcp", host: "127.0.0.1:4000" }), ""],
  ["tcp://[::1]:4000", A({ scheme: "tcp", host: "[::1]:4000" }), ""],
  ["tcp://[fe80::1%eth0]:4000", A({ scheme: "tcp", host: "[fe80::1%eth0]:4000" }), ""],
  ["tcp://example.com:80", A({ scheme: "tcp", host: "example.com:80" }), ""],
  ["tcp://:0", A({ scheme: "tcp", host: ":0" }), ""],
  ["TCP://h:04000", A({ scheme: "tcp", host: "h:4000" }), "tcp://h:4000"],
  ["unix:///run/q.sock", A({ scheme: "unix", path: "/run/q.sock" }), ""],
  ["unix:/run/q.sock", A({ scheme: "unix", path: "/run/q.sock" }), "unix:///run/q.sock"],
  ["unix:q.sock", A({ scheme: "unix", path: "q.sock" }), ""],
  ["unix:./a b/q.sock", A({ scheme: "unix", path: "./a b/q.sock" }), ""],
  ["ws://host:8080/path", A({ scheme: "ws", host: "host:8080", path: "/path" }), ""],
  ["ws://host/path?a=1&b=%20", A({ scheme: "ws", host: "host", path: "/path", rawQuery: "a=1&b=%20" }), ""],
  ["ws://host:80", A({ scheme: "ws", host: "host:80" }), ""],
  ["ws://host/a%21b", A({ scheme: "ws", host: "host", path: "/a%21b" }), ""],
  ["websocket://host:1/p", A({ scheme: "ws", host: "host:1", path: "/p" }), "ws://host:1/p"],
  ["wss://host:443/p", A({ scheme: "wss", host: "host:443", path: "/p" }), ""],
  ["stdio:", A({ scheme: "stdio" }), ""],
  ["exec:cmd", A({ scheme: "exec", opaque: "cmd" }), ""],
  [`exec:cmd -x 'a b' "c'd"`, A({ scheme: "exec", opaque: `cmd -x 'a b' "c'd"` }), ""],
  ["exec:sh -c 'echo hi!'", A({ scheme: "exec", opaque: "sh -c 'echo hi!'" }), ""],

  // Compact form and every shorthand.
  ["tcp/127.0.0.1:4000", A({ scheme: "tcp", host: "127.0.0.1:4000" }), "tcp://127.0.0.1:4000"],
  ["tcp/$4:4000", A({ scheme: "tcp", host: "127.0.0.1:4000" }), "tcp://127.0.0.1:4000"],
  ["tcp/$6:4000", A({ scheme: "tcp", host: "[::1]:4000" }), "tcp://[::1]:4000"],
  ["tcp/$n:4000", A({ scheme: "tcp", host: "localhost:4000" }), "tcp://localhost:4000"],
  ["tcp/*4:4000", A({ scheme: "tcp", host: "0.0.0.0:4000" }), "tcp://0.0.0.0:4000"],
  ["tcp/*6:4000", A({ scheme: "tcp", host: "[::]:4000" }), "tcp://[::]:4000"],
  ["tcp://$4:4000", A({ scheme: "tcp", host: "127.0.0.1:4000" }), "tcp://127.0.0.1:4000"],
  ["ws/$4:8080/q?x", A({ scheme: "ws", host: "127.0.0.1:8080", path: "/q", rawQuery: "x" }), "ws://127.0.0.1:8080/q?x"],
  ["ws/$n", A({ scheme: "ws", host: "localhost" }), "ws://localhost"],
  ["unix//run/q.sock", A({ scheme: "unix", path: "/run/q.sock" }), "unix:///run/q.sock"],
  ["unix/q.sock", A({ scheme: "unix", path: "q.sock" }), "unix:q.sock"],

  // Subports.
  ["tcp/$4:4000!chat", A({ scheme: "tcp", host: "127.0.0.1:4000", subport: "chat" }), "tcp://127.0.0.1:4000!chat"],
  ["tcp://127.0.0.1:4000!chat", A({ scheme: "tcp", host: "127.0.0.1:4000", subport: "chat" }), ""],
  ["ws://h:1/p?q=1!a.b_c-d", A({ scheme: "ws", host: "h:1", path: "/p", rawQuery: "q=1", subport: "a.b_c-d" }), ""],
  ["ws://h:1/p!", A({ scheme: "ws", host: "h:1", path: "/p!" }), ""],
  ["unix:///s.sock!svc", A({ scheme: "unix", path: "/s.sock", subport: "svc" }), ""],
  ["stdio:!chat", A({ scheme: "stdio", subport: "chat" }), ""],
  ["exec:cmd arg!chat", A({ scheme: "exec", opaque: "cmd arg", subport: "chat" }), ""],
];

test("parseAddress parses as Go's ParseAddress, and formatAddress gives the canonical form", () => {
  for (const [input, want, canonical] of parseTests) {
    const got = parseAddress(input);
    assert.deepEqual(got, want, input);
    const str = canonical || input;
    assert.equal(formatAddress(got), str, input);
    assert.deepEqual(parseAddress(str), got, `round trip of ${input}`);
  }
});

test("parseAddress fails with Go's reasons", () => {
  const errorTests: [string, string][] = [
    ["", "missing scheme"],
    ["127.0.0.1", "missing scheme"],
    [":4000", "bad scheme"],
    ["1tcp://h:1", "bad scheme"],
    ["nope://h:1", `unknown scheme "nope"`],
    ["nope/h:1", `unknown scheme "nope"`],
    ["tcp://127.0.0.1", `missing port in "127.0.0.1"`],
    ["tcp/$4", `missing port in "127.0.0.1"`],
    ["tcp/$4:", "missing port"],
    ["tcp://", "missing host and port"],
    ["tcp://h:http", `bad port "http"`],
    ["tcp://h:65536", `bad port "65536"`],
    ["tcp://h:-1", `bad port "-1"`],
    ["tcp://h:1/x", `unexpected "/x"`],
    ["tcp:h:1", "missing //"],
    ["tcp/::1:4000", "must be in brackets"],
    ["tcp/[::1:4000", "missing ]"],
    ["tcp/[1.2.3.4]:4000", "bad IPv6 host"],
    ["tcp/[::1]x:4000", "bad host"],
    ["tcp/$5:4000", `bad host "$5"`],
    ["tcp/h h:1", "bad host"],
    ["tcp/u@h:1", "user info"],
    ["tcp/h:1!", `bad subport ""`],
    ["tcp/h:1!a b", `bad subport "a b"`],
    ["ws://h:1/p#f", "fragment"],
    ["ws://h:1/a b", "bad path"],
    ["ws://h:1/a%2", "bad path"],
    ["ws://h:1/?a b", "bad query"],
    ["ws://:1/p", "missing host"],
    ["unix://", "empty path"],
    ["unix:", "empty path"],
    ["unix/", "empty path"],
    ["unix://host/x.sock", "unexpected host"],
    ["stdio:x", `unexpected "x"`],
    ["stdio/x", "no compact form"],
    ["stdio:!", `bad subport ""`],
    ["exec:", "empty command"],
    ["exec:  ", "empty command"],
    ["exec:cmd 'a", "unterminated ' quote"],
    ["exec/cmd", "no compact form"],
  ];
  for (const [input, reason] of errorTests) {
    assert.throws(
      () => parseAddress(input),
      (err: unknown) =>
        err instanceof AddressError &&
        isTransportError(err, "bad_address") &&
        err.address === input &&
        err.reason.includes(reason) &&
        err.message === `transport: bad address ${JSON.stringify(input)}: ${err.reason}`,
      `${input}: want reason containing ${reason}`,
    );
  }
  assert.throws(
    () => parseAddress("nope://h:1"),
    (err: unknown) => err instanceof AddressError && err.kind === "unknown_scheme" && isTransportError(err, "unknown_scheme"),
  );
  assert.throws(
    () => parseAddress("tcp://h"),
    (err: unknown) => err instanceof AddressError && err.kind === "bad_address" && !isTransportError(err, "unknown_scheme"),
  );
});

test("IPv6 hosts are checked as Go's netip checks them", () => {
  for (const host of ["::", "1::", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "fe80::1%eth0"]) {
    assert.equal(parseAddress(`tcp://[${host}]:1`).host, `[${host}]:1`);
  }
  for (const host of ["1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "::1.2.3", "::01.2.3.4", "fe80::1%", "1.2.3.4::"]) {
    assert.throws(() => parseAddress(`tcp://[${host}]:1`), /bad IPv6 host/, host);
  }
});

test("addressArgs splits the command line as Go's Address.Args", () => {
  const tests: [string, string[]][] = [
    ["exec:cmd", ["cmd"]],
    ["exec:  cmd \t a  b ", ["cmd", "a", "b"]],
    [`exec:cmd 'a b' "c'd" e"f g"h '' x`, ["cmd", "a b", "c'd", "ef gh", "", "x"]],
  ];
  for (const [input, want] of tests) {
    assert.deepEqual(addressArgs(parseAddress(input)), want, input);
  }
  assert.throws(() => addressArgs(A({ scheme: "exec" })), (err: unknown) => isTransportError(err, "bad_address"));
});
