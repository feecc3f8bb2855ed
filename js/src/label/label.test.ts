import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  LabelSyntaxError,
  type Label,
  formatLabel,
  labelRoute,
  labelsEqual,
  maxLabelLength,
  paramValue,
  paramValues,
  parseLabel,
  withModule,
} from "./label.js";

const L = (host: string, module: string, name: string, params: [string, string][] = []): Label => ({
  host,
  module,
  name,
  params: params.map(([key, value]) => ({ key, value })),
});

// Go's label_test.go TestParse.
const parses: [string, Label, string?][] = [
  ["chat:send", L("", "chat", "send")],
  ["guild:write?id=7", L("", "guild", "write", [["id", "7"]])],
  ["example.net/guild-service:write", L("example.net", "guild-service", "write")],
  ["Example.NET:4242/g:w", L("example.net:4242", "g", "w"), "example.net:4242/g:w"],
  ["[::1]:80/g:w", L("[::1]:80", "g", "w")],
  ["[FE80::1]/g:w", L("[fe80::1]", "g", "w"), "[fe80::1]/g:w"],
  ["a.b_c-d:_x.y-z", L("", "a.b_c-d", "_x.y-z")],
  ["m:n?a=1&b=2&a=3", L("", "m", "n", [["a", "1"], ["b", "2"], ["a", "3"]])],
  ["m:n?flag", L("", "m", "n", [["flag", ""]])],
  ["m:n?flag=", L("", "m", "n", [["flag", ""]]), "m:n?flag"],
  ["m:n?p=a%20b%26c%3Dd%25", L("", "m", "n", [["p", "a b&c=d%"]])],
  ["m:n?p=%c3%a9", L("", "m", "n", [["p", "é"]]), "m:n?p=%C3%A9"],
  ["m:n?path=/a/b?c:d@e", L("", "m", "n", [["path", "/a/b?c:d@e"]])],
  ["m:n?e=a=b", L("", "m", "n", [["e", "a=b"]]), "m:n?e=a%3Db"],
  ["m:n?k%3D=v", L("", "m", "n", [["k=", "v"]])],
  // spec/labels.md section 3.
  ["m:n?flag=&x=%c3%a9", L("", "m", "n", [["flag", ""], ["x", "é"]]), "m:n?flag&x=%C3%A9"],
];

test("parse and print: Go's table", () => {
  for (const [s, want, canonical] of parses) {
    const got = parseLabel(s);
    assert.deepEqual(got, want, s);
    assert.ok(labelsEqual(got, want));
    assert.equal(formatLabel(got), canonical ?? s);
  }
});

// Go's label_test.go TestParseErrors: the part and the byte offset.
const errors: [string, string, number][] = [
  ["", "label", 0],
  ["chat", "label", 4],
  ["chat.send", "label", 9],
  [":send", "module", 0],
  ["chat:", "name", 5],
  ["-chat:send", "module", 0],
  ["ch at:send", "module", 2],
  ["chat:se nd", "name", 7],
  ["chat:a:b", "name", 6],
  ["chat:a/b", "name", 6],
  ["/chat:send", "host", 0],
  ["h/x/chat:send", "module", 3],
  ["-h/chat:send", "host", 0],
  ["h!/chat:send", "host", 1],
  ["h:/chat:send", "host", 2],
  ["h:123456/chat:send", "host", 2],
  ["h:70000/chat:send", "host", 2],
  ["[::1/chat:send", "host", 0],
  ["[]/chat:send", "host", 1],
  ["[::g]/chat:send", "host", 3],
  ["chat:send?", "params", 10],
  ["chat:send?a&", "params", 12],
  ["chat:send?a&&b", "params", 12],
  ["chat:send?=v", "params", 10],
  ["chat:send?a=%2", "params", 12],
  ["chat:send?a=%zz", "params", 12],
  ["chat:send?a=b c", "params", 13],
  ["chat:send?a=é", "params", 12],
  ["chat:send?a#b", "params", 11],
  ["chat:send?p=" + "x".repeat(maxLabelLength), "label", maxLabelLength],
];

test("errors name the part and the byte offset: Go's table", () => {
  for (const [s, part, offset] of errors) {
    assert.throws(
      () => parseLabel(s),
      (err: unknown) => {
        assert.ok(err instanceof LabelSyntaxError, `${s}: ${err}`);
        assert.equal(err.part, part, `${s}: ${err.message}`);
        assert.equal(err.offset, offset, `${s}: ${err.message}`);
        assert.equal(err.label, s);
        assert.ok(err.message.includes(part));
        return true;
      },
    );
  }
});

test("params, route, withModule", () => {
  const l = parseLabel("m:n?a=1&b=2&a=3");
  assert.equal(paramValue(l, "a"), "1");
  assert.equal(paramValue(l, "c"), undefined);
  assert.deepEqual(paramValues(l, "a"), ["1", "3"]);
  assert.equal(labelRoute(l), "m:n");
  assert.equal(formatLabel(withModule(parseLabel("example.net/guild:write?id=7"), "guild-service")), "guild-service:write?id=7");
});

test("whatever parses prints canonically and parses back to the same label", () => {
  const alphabet = [..."aZ09-_.:/?=&%[]!~ é#+2fF"];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }), (chars) => {
      const s = chars.join("");
      let l: Label;
      try {
        l = parseLabel(s);
      } catch (err) {
        assert.ok(err instanceof LabelSyntaxError);
        assert.ok(err.offset >= 0 && err.offset <= new TextEncoder().encode(s).length);
        return;
      }
      const str = formatLabel(l);
      const l2 = parseLabel(str);
      assert.ok(labelsEqual(l, l2), `${s} -> ${str}`);
      assert.equal(formatLabel(l2), str);
    }),
    { numRuns: 3000, seed: 12 },
  );
});
