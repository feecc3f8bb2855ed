import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, QtalkError } from "./errors.js";
import { RespondMux } from "./respondmux.js";
import type { Call, Handler, Responder } from "./server.js";

/** Routes selector through m; returns what the matched handler saw, or the error. */
async function route(m: RespondMux, selector: string): Promise<unknown> {
  const call = { selector, fullSelector: selector } as Call;
  try {
    return await m.respondRPC({} as Responder, call);
  } catch (err) {
    return err;
  }
}

const named = (name: string): Handler => (_r, c) => `${name} ${c.selector}`;

test("exact beats prefix, the longest prefix wins, prefix handlers see the rest, muxes nest", async () => {
  const inner = new RespondMux().handle("send", named("inner")).handle("x.", named("inner x."));
  const m = new RespondMux()
    .handle("chat:send", named("exact"))
    .handle("chat:", named("chat:"))
    .handle("chat:admin.", named("chat:admin."))
    .handle("files/", named("files/"))
    .handle("guild:", inner);
  assert.equal(await route(m, "chat:send"), "exact chat:send");
  assert.equal(await route(m, "chat:join"), "chat: join");
  assert.equal(await route(m, "chat:admin.kick"), "chat:admin. kick");
  assert.equal(await route(m, "chat:"), "chat: ");
  assert.equal(await route(m, "files/a/b"), "files/ a/b");
  assert.equal(await route(m, "guild:send"), "inner send");
  assert.equal(await route(m, "guild:x.y"), "inner x. y");
  for (const missing of ["chat", "chatter:x", "guild:other", "nope"]) {
    const err = await route(m, missing);
    assert.ok(err instanceof QtalkError && err.code === Code.NotFound, `${missing}: ${err}`);
    assert.match((err as Error).message, new RegExp(`no handler for "${missing}"`));
  }
  assert.deepEqual(m.patterns(), ["chat:", "chat:admin.", "chat:send", "files/", "guild:"]);
});

test("registering twice or an empty pattern throws; remove unregisters", async () => {
  const m = new RespondMux().handle("a", named("a")).handle("p.", named("p."));
  assert.throws(() => m.handle("a", named("again")), TypeError);
  assert.throws(() => m.handle("p.", named("again")), TypeError);
  assert.throws(() => m.handle("", named("empty")), TypeError);
  assert.equal(m.remove("p."), true);
  assert.equal(m.remove("p."), false);
  assert.equal(m.remove("a"), true);
  assert.ok((await route(m, "a")) instanceof QtalkError);
  assert.equal(m.match("p.x"), undefined);
});
