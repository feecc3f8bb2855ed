// What the gateway client checks through a Go gateway (talk/service) to a
// Node upstream serving the check protocol and the slow fixtures: MODULE
// reaches the upstream's check:*, MODULE-slow its slow:*. Browser-safe.

import { CheckMismatchError, render, sameValue } from "../check/checker.js";
import { pattern, readAll, equalBytes } from "../check/bytes.js";
import { codeName, Code, QtalkError } from "../rpc/errors.js";
import type { Peer } from "../rpc/peer.js";
import type { Step } from "./results.js";

/** The steps, in order: unary, server-stream, client-stream, bytes, cancel, deadline. */
export function gatewaySteps(peer: Peer, module: string): Step[] {
  const slow = `${module}-slow`;
  return [
    {
      name: "unary",
      run: async () => {
        const v = { text: "through the gateway", n: -7, list: [1, "two", true, null], nested: { k: "v" } };
        const got = await peer.call(`${module}:echo`, v);
        if (!sameValue(got, v)) throw new CheckMismatchError(`${module}:echo replied ${render(got)}, want ${render(v)}`);
      },
    },
    {
      name: "server-stream",
      run: async () => {
        const resp = await peer.stream(`${module}:stream`, 100);
        try {
          const got: unknown[] = [];
          for await (const v of resp) got.push(v);
          const want = Array.from({ length: 100 }, (_, i) => i);
          if (!sameValue(got, want)) throw new CheckMismatchError(`${module}:stream 100 sent ${render(got)}`);
        } finally {
          await resp.close();
        }
      },
    },
    {
      name: "client-stream",
      run: async () => {
        const resp = await peer.stream(`${module}:sum`, null);
        try {
          for (let i = 1; i <= 100; i++) await resp.send(i);
          await resp.closeSend();
          const total = await resp.receive();
          if (total.done || total.value !== 5050) throw new CheckMismatchError(`${module}:sum of 1..100 is ${render(total.value)}, want 5050`);
        } finally {
          await resp.close();
        }
      },
    },
    {
      name: "bytes",
      run: async () => {
        const size = 1 << 20;
        const resp = await peer.stream(`${module}:bytes`, size);
        try {
          const conn = resp.conn();
          const data = pattern(size);
          const writing = conn.write(data).then(() => conn.closeWrite());
          const got = await readAll(conn, size);
          await writing;
          if (!equalBytes(got, data)) throw new CheckMismatchError(`${module}:bytes returned ${got.length} bytes other than the ${size} sent`);
        } finally {
          await resp.close();
        }
      },
    },
    {
      name: "cancel",
      run: async () => {
        const controller = new AbortController();
        try {
          await expectCancelled(peer, slow, { signal: controller.signal }, Code.Canceled, () => controller.abort());
        } finally {
          controller.abort(); // ends the call if the step failed before cancelling it
        }
      },
    },
    // The deadline must leave the call time to reach the upstream, which
    // records how it ended: a second is ample on any machine.
    { name: "deadline", run: () => expectCancelled(peer, slow, { timeout: 1000 }, Code.DeadlineExceeded) },
  ];
}

/**
 * Calls slow:wait with a fresh token and options that end it; with
 * cancel, waits until the upstream runs the call (slow:started) and
 * cancels it. Expects the call to fail with code, then the upstream to
 * have seen that code.
 */
async function expectCancelled(
  peer: Peer,
  slow: string,
  options: { signal?: AbortSignal; timeout?: number },
  code: number,
  cancel?: () => void,
): Promise<void> {
  const token = crypto.randomUUID();
  const ended = peer.call(`${slow}:wait`, token, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (cancel) {
    const started = await peer.call(`${slow}:started`, token);
    if (started !== true) throw new CheckMismatchError(`${slow}:started replied ${render(started)}, want true`);
    cancel();
  }
  const err = await ended;
  if (!(err instanceof QtalkError) || err.code !== code) {
    throw new CheckMismatchError(`${slow}:wait ended with ${String(err ?? "a reply")}, want ${codeName(code)}`);
  }
  const seen = await peer.call(`${slow}:cancelled`, token);
  if (seen !== codeName(code)) throw new CheckMismatchError(`the upstream saw its call end with ${render(seen)}, want ${codeName(code)}`);
}
