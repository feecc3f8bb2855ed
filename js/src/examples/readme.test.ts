// The Node example of js/README.md, as a test: keep the two in step.

import { test } from "node:test";
import assert from "node:assert/strict";
import { dial, listen, Peer, RespondMux, QtalkError, Code } from "../node.js";

test("README: a Node server and client", async () => {
  // A server: every session accepted is served by the handler.
  const handler = new RespondMux();
  handler.handle("greet:hello", async (_r, call) => {
    const [name] = (await call.receiveArgs()) as [string];
    if (!name) throw new QtalkError(Code.InvalidArgument, "greet:hello needs a name");
    return `hello, ${name}`;
  });
  const ln = await listen("tcp://127.0.0.1:0");
  const served: Peer[] = [];
  const accepting = (async () => {
    for (;;) served.push(new Peer(await ln.accept(), { handler }));
  })();

  // A client, with a deadline that travels with the call.
  const peer = new Peer(await dial(ln.address));
  assert.equal(await peer.call("greet:hello", ["Ada"], { timeout: 1000 }), "hello, Ada");
  await assert.rejects(peer.call("greet:hello", [""]), (err: unknown) => err instanceof QtalkError && err.code === Code.InvalidArgument);
  await peer.close();
  await ln.close();
  await assert.rejects(accepting); // accept fails once the listener is closed
  await Promise.all(served.map((p) => p.close()));
});
