// The upstream fixtures of the gateway test (qtalk-js serve
// --upstream-fixtures): a call that waits to be cancelled, and one that
// says how it was. Browser-safe, like the rest of the rpc layer.

import { abortCode, Code, codeName, QtalkError } from "../rpc/errors.js";
import { RespondMux } from "../rpc/respondmux.js";
import type { Call } from "../rpc/server.js";

/** The prefix pattern the fixtures are served under. */
export const slowPrefix = "slow:";

/** How long slow:started and slow:cancelled wait for what they report (ms). */
export const reportWaitMs = 5000;

async function token(call: Call): Promise<string> {
  const t = await call.receiveArgs();
  if (typeof t !== "string") throw new QtalkError(Code.InvalidArgument, `${call.fullSelector}: want a text token`);
  return t;
}

/** Values recorded by token, and the calls waiting for one. */
class Records {
  private readonly values = new Map<string, string>();
  private readonly waiters = new Map<string, ((v: string) => void)[]>();

  set(token: string, v: string): void {
    this.values.set(token, v);
    for (const wake of this.waiters.get(token) ?? []) wake(v);
    this.waiters.delete(token);
  }

  /** The value of token, waiting up to reportWaitMs for it; else a not_found error saying what did not happen. */
  wait(token: string, what: string): Promise<string> {
    const v = this.values.get(token);
    if (v !== undefined) return Promise.resolve(v);
    return new Promise<string>((resolve, reject) => {
      const wake = (v: string) => {
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        const left = (this.waiters.get(token) ?? []).filter((w) => w !== wake);
        if (left.length > 0) this.waiters.set(token, left);
        else this.waiters.delete(token);
        reject(new QtalkError(Code.NotFound, `${what} of ${JSON.stringify(token)} within ${reportWaitMs / 1000} s`));
      }, reportWaitMs);
      this.waiters.set(token, [...(this.waiters.get(token) ?? []), wake]);
    });
  }
}

/**
 * A mux for slowPrefix: wait (args: a token) waits until its call's signal
 * aborts, records the code name of the reason for the token ("canceled" or
 * "deadline_exceeded") and fails with it; started (args: a token) replies
 * true once a wait of the token is running, so that a client cancels a
 * call known to have arrived; cancelled (args: a token) replies the name
 * recorded for the token. Both wait up to reportWaitMs, else fail with
 * not_found.
 */
export function slowFixtures(): RespondMux {
  const running = new Records();
  const ended = new Records();
  return new RespondMux()
    .handle("wait", async (_r, call) => {
      const t = await token(call);
      const signal = call.signal;
      running.set(t, "running");
      const reason = await new Promise<unknown>((resolve) => {
        if (signal.aborted) resolve(signal.reason);
        else signal.addEventListener("abort", () => resolve(signal.reason), { once: true });
      });
      ended.set(t, codeName(abortCode(reason)));
      throw reason;
    })
    .handle("started", async (_r, call) => {
      const t = await token(call);
      await running.wait(t, `${call.fullSelector}: no wait`);
      return true;
    })
    .handle("cancelled", async (_r, call) => {
      const t = await token(call);
      return ended.wait(t, `${call.fullSelector}: no cancellation`);
    });
}
