import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseAddress } from "../transport/address.js";
import { isTransportError } from "../transport/errors.js";
import { dial } from "../transport/registry.js";
import { registerNodeConnectors } from "./connectors.js";
import { dialExec } from "./exec.js";
import { assertEchoes, guard, readAll } from "./transport.test.util.js";

registerNodeConnectors();

const child = fileURLToPath(new URL("./stdio-echo.test.util.js", import.meta.url));
const execAddress = (...args: string[]) => `exec:'${process.execPath}' '${child}' ${args.join(" ")}`;

test("exec: 8 MiB echoed through a session with a child serving stdio:", guard, async () => {
  const session = await dial(execAddress());
  assert.equal(session.remoteAddress, execAddress());
  await assertEchoes(session);
  await session.close();
});

test("exec: two channels at once, then the session ends the child", guard, async () => {
  const session = await dial(execAddress());
  await Promise.all([assertEchoes(session, 1 << 20), assertEchoes(session, 1 << 20)]);
  await session.close();
});

test("exec: a child's non-zero exit status ends the stream with an error naming it", guard, async () => {
  const conn = await dialExec(parseAddress(execAddress("3")));
  await assert.rejects(readAll(conn.readable), (err: unknown) => isTransportError(err, "closed") && /exit status 3$/.test((err as Error).message));
  assert.match(String(await conn.exited), /exit status 3$/);
  conn.close();
  const clean = await dialExec(parseAddress(execAddress("0")));
  assert.equal((await readAll(clean.readable)).length, 0);
  assert.equal(await clean.exited, undefined);
  clean.close();
});

test("exec: a command that does not exist fails the dial", guard, async () => {
  await assert.rejects(dial("exec:/nonexistent/qtalk-child"), (err: unknown) => isTransportError(err, "dial") && /ENOENT/.test((err as Error).message));
  await assert.rejects(dial("exec:cmd 'unterminated"), (err: unknown) => isTransportError(err, "bad_address"));
});

test("exec: closing the Conn ends the child's stdin, and kills a child that ignores it", guard, async () => {
  const polite = await dialExec(parseAddress(`exec:'${process.execPath}' -e 'process.stdin.resume()'`));
  polite.close();
  assert.equal(await polite.exited, undefined, "exits by itself at the end of its stdin");
  const stubborn = await dialExec(parseAddress(`exec:'${process.execPath}' -e 'process.stdin.resume(); setInterval(() => {}, 1000)'`));
  stubborn.close();
  assert.match(String(await stubborn.exited), /signal: SIGKILL$/);
});
