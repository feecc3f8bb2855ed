import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMuxError } from "../errors.js";
import type { Conn } from "../mux.js";
import { parseAddress } from "../transport/address.js";
import { isTransportError, TransportError } from "../transport/errors.js";
import { dial, listen } from "../transport/registry.js";
import { registerNodeConnectors } from "./connectors.js";
import { tcpConnector, unixConnector } from "./net.js";
import { assertEchoes, assertHalfClose, echoChannels, guard, pattern } from "./transport.test.util.js";

registerNodeConnectors();

function tempSocket(): { path: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), "qtalk-js-"));
  return { path: join(dir, "s.sock"), [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

for (const scheme of ["tcp", "unix"] as const) {
  const address = (socket: string) => (scheme === "tcp" ? "tcp://127.0.0.1:0" : `unix://${socket}`);

  test(`${scheme}: 8 MiB echoed through a session`, guard, async () => {
    using socket = tempSocket();
    const listener = await listen(address(socket.path));
    const accepted = listener.accept().then(echoChannels);
    const client = await dial(listener.address);
    await assertEchoes(client);
    await client.close();
    await accepted;
    await listener.close();
  });

  test(`${scheme}: half-close ends one direction, the other goes on`, guard, async () => {
    using socket = tempSocket();
    const connector = scheme === "tcp" ? tcpConnector : unixConnector;
    const listener = await connector.listen!(parseAddress(address(socket.path)), {});
    const accepted = listener.accept();
    const client = await connector.dialConn(parseAddress(listener.address), {});
    await assertHalfClose(client, await accepted);
    await listener.close();
  });

  test(`${scheme}: the peer closing mid-transfer fails the writer's session, no hang`, guard, async (t) => {
    using socket = tempSocket();
    const listener = await listen(address(socket.path));
    t.after(() => listener.close());
    const server = listener.accept().then(async (session) => {
      const ch = await session.accept();
      let n = 0;
      while (n < 1 << 20) n += (await ch.read())!.length;
      await session.close();
    });
    const client = await dial(listener.address);
    const ch = await client.open();
    const data = pattern(8 << 20);
    await assert.rejects(ch.write(data), (err: unknown) => isMuxError(err, "session_closed"));
    await server;
    // The peer's close may reach this side as the end of the stream or, with
    // this side's bytes unread there, as a reset: either way the session ends.
    const ended = await client.done;
    assert.ok(ended === undefined || isMuxError(ended, "session_closed"), `session ended with ${ended}`);
    await listener.close();
  });
}

test("unix: closing the listener removes its socket file", guard, async () => {
  using socket = tempSocket();
  const listener = await listen(`unix://${socket.path}`);
  assert.equal(listener.address, `unix://${socket.path}`);
  assert.ok(existsSync(socket.path));
  await listener.close();
  assert.ok(!existsSync(socket.path));
});

test("tcp: accept after close, and pending accepts, fail with listener_closed", guard, async () => {
  const listener = await listen("tcp/$4:0");
  assert.match(listener.address, /^tcp:\/\/127\.0\.0\.1:[1-9][0-9]*$/);
  const pending = listener.accept();
  await listener.close();
  const closed = (err: unknown) => isTransportError(err, "listener_closed");
  await assert.rejects(pending, closed);
  await assert.rejects(listener.accept(), closed);
});

test("tcp: accept gives up when its signal aborts", guard, async () => {
  const listener = await listen("tcp/$4:0");
  const controller = new AbortController();
  const pending = listener.accept({ signal: controller.signal });
  const reason = new Error("enough");
  controller.abort(reason);
  await assert.rejects(pending, (err) => err === reason);
  await listener.close();
});

test("tcp: a refused dial fails with the address and the system's error", guard, async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  await assert.rejects(dial(`tcp/$4:${port}`), (err: unknown) => {
    assert.ok(err instanceof TransportError && err.kind === "dial");
    assert.match(err.message, new RegExp(`^transport: dial tcp://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    assert.equal((err.cause as NodeJS.ErrnoException).code, "ECONNREFUSED");
    return true;
  });
});

test("dial and listen fail on bad addresses and unsupported operations as Go's do", guard, async () => {
  await assert.rejects(dial("nope://h:1"), (err: unknown) => isTransportError(err, "unknown_scheme"));
  await assert.rejects(dial("tcp://h"), (err: unknown) => isTransportError(err, "bad_address"));
  await assert.rejects(listen("exec:cat"), (err: unknown) => isTransportError(err, "unsupported"));
  await assert.rejects(listen("tls://h:1"), (err: unknown) => isTransportError(err, "unsupported"));
  await assert.rejects(dial("tcp/$4:1", { config: { windowSize: 1 } }), RangeError);
});

test("tcp: a listener whose queue is full closes further connections", guard, async () => {
  const listener = await listen("tcp/$4:0");
  const conns: Conn[] = [];
  // 64 are queued for accept; the 65th is closed by the listener, so its
  // readable ends without any byte.
  for (let i = 0; i <= 64; i++) conns.push(await tcpConnector.dialConn(parseAddress(listener.address), {}));
  const reader = conns[64]!.readable.getReader();
  assert.deepEqual(await reader.read(), { done: true, value: undefined });
  const first = await listener.accept();
  assert.ok(first.remoteAddress?.startsWith("tcp://127.0.0.1:"));
  await first.close();
  for (const c of conns) c.close();
  await listener.close();
});
