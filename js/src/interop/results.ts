// Named steps run one after the other, each reported as passed or failed:
// what the interop programs print and the browser suite publishes.

/** The outcome of one step, as the browser suite publishes it. */
export interface StepResult {
  name: string;
  ok: boolean;
  /** Why it failed; absent when it passed. */
  error?: string;
}

/** A named step: it passes when run resolves and fails with what it rejects with. */
export interface Step {
  readonly name: string;
  run(): Promise<void>;
}

/** How long a step may run by default before it fails: a guard against hangs, not a measure. */
export const defaultStepGuardMs = 60_000;

/** A step that did not finish within its guard. */
export class StepTimeoutError extends Error {
  constructor(name: string, ms: number) {
    super(`${name} did not finish within ${ms / 1000} s`);
    this.name = "StepTimeoutError";
  }
}

/**
 * Runs steps in order, each bounded by guardMs, calling report with each
 * result as it comes, and returns them all. A step that times out is left
 * running: the caller ends whatever it shares with the others.
 */
export async function runSteps(
  steps: readonly Step[],
  report: (r: StepResult) => void = () => {},
  guardMs = defaultStepGuardMs,
): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const step of steps) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StepTimeoutError(step.name, guardMs)), guardMs);
    });
    let result: StepResult;
    try {
      await Promise.race([step.run(), guard]);
      result = { name: step.name, ok: true };
    } catch (err) {
      result = { name: step.name, ok: false, error: describeError(err) };
    } finally {
      clearTimeout(timer);
    }
    results.push(result);
    report(result);
  }
  return results;
}

/** One line for a result: "PASS name" or "FAIL name: error". */
export function formatStepResult(r: StepResult): string {
  return r.ok ? `PASS ${r.name}` : `FAIL ${r.name}: ${r.error}`;
}

/**
 * The text of an error on one line, as its toString gives it: with its
 * class ("QtalkMuxError: mux: ...") or code ("rpc: not_found: ...").
 */
export function describeError(err: unknown): string {
  const text = String(err);
  const newline = text.indexOf("\n");
  return newline < 0 ? text : text.slice(0, newline).trim();
}
