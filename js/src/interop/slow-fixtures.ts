// The upstream fixtures of the gateway test (qtalk-js serve
// --upstream-fixtures): a call that waits to be cancelled, and one that
// says how it was. Browser-safe, like the rest of the rpc layer.

import { abortCode, Code, codeName, QtalkError } from "../rpc/errors.js";
import { RespondMux } from "../rpc/respondmux.js";
import type { Call } from "../rpc/server.js";

/** The prefix pattern the fixtures are served under. */
export const slowPrefix = "slow:";

/** How long slow:cancelled waits for the cancellation of its token to be recorded (ms). */
export const cancelledWaitMs = 5000;

async function token(call: Call): Promise<string> {
  const t = await call.receiveArgs();
  if (typeof t !== "string") throw new QtalkError(Code.InvalidArgument, `${call.fullSelector}: want a text token`);
  return t;
}

/**
 * A mux for slowPrefix: wait (args: a token) waits until its call's signal
 * aborts, records the code name of the reason for the token ("canceled" or
 * "deadline_exceeded") and fails with it; cancelled (args: a token)
 * replies the name recorded for the token, waiting up to cancelledWaitMs
 * for it (the cancellation may still be on its way), else fails with
 * not_found.
 */
export function slowFixtures(): RespondMux {
  const recorded = new Map<string, string>();
  const waiters = new Map<string, ((name: string) => void)[]>();
  return new RespondMux()
    .handle("wait", async (_r, call) => {
      const t = await token(call);
      const signal = call.signal;
      const reason = await new Promise<unknown>((resolve) => {
        if (signal.aborted) resolve(signal.reason);
        else signal.addEventListener("abort", () => resolve(signal.reason), { once: true });
      });
      const name = codeName(abortCode(reason));
      recorded.set(t, name);
      for (const wake of waiters.get(t) ?? []) wake(name);
      waiters.delete(t);
      throw reason;
    })
    .handle("cancelled", async (_r, call) => {
      const t = await token(call);
      const name = recorded.get(t);
      if (name !== undefined) return name;
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          const left = (waiters.get(t) ?? []).filter((w) => w !== wake);
          if (left.length > 0) waiters.set(t, left);
          else waiters.delete(t);
          reject(new QtalkError(Code.NotFound, `${call.fullSelector}: no cancellation of ${JSON.stringify(t)} within ${cancelledWaitMs / 1000} s`));
        }, cancelledWaitMs);
        const wake = (n: string) => {
          clearTimeout(timer);
          resolve(n);
        };
        waiters.set(t, [...(waiters.get(t) ?? []), wake]);
      });
    });
}
