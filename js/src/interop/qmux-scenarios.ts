// The qmux interop scenarios: what a peer checks over a session to a peer
// that echoes every channel, and that echo itself. Browser-safe: the Node
// program (qmux-peer) and the browser suite both run them.

import { QtalkMuxError } from "../errors.js";
import type { Channel, Session } from "../mux.js";
import { equalBytes, pattern, readAll } from "../check/bytes.js";
import type { Step } from "./results.js";

/**
 * The first bytes of a channel that make the echoing peer close its whole
 * session instead of echoing (the peer-closes scenario).
 */
export const closeSessionCommand: Uint8Array = new TextEncoder().encode("close-session");

/** A scenario's finding: the echo or the session did not behave as it should. */
export class ScenarioError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ScenarioError";
  }
}

/** Options of qmuxScenarios. */
export interface ScenarioOptions {
  /** Bytes of the one-channel transfer (default 8 000 000; its name says how many MB). */
  transferBytes?: number;
  /** Whether to end with peer-closes, which ends the session (default true). */
  peerCloses?: boolean;
}

const kib = 1024;
const echoSize = 64 * kib;

/**
 * The scenarios, in the order they run, over session, whose peer echoes
 * every channel (see echoSession): channels-100, transfer-8mb, half-close,
 * slow-reader, peer-closes. The last one ends the session.
 */
export function qmuxScenarios(session: Session, options: ScenarioOptions = {}): Step[] {
  const transferBytes = options.transferBytes ?? 8_000_000;
  const steps: Step[] = [
    { name: "channels-100", run: () => concurrentEchoes(session, 100, 1) },
    { name: `transfer-${transferBytes / 1e6}mb`, run: () => transfer(session, transferBytes) },
    { name: "half-close", run: () => halfClose(session) },
    { name: "slow-reader", run: () => slowReader(session) },
  ];
  if (options.peerCloses ?? true) steps.push({ name: "peer-closes", run: () => peerCloses(session) });
  return steps;
}

/** Echoes n channels of 64 KiB at once, each of its own pattern (seeds from firstSeed). */
async function concurrentEchoes(session: Session, n: number, firstSeed: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const ch = await session.open();
      await checkEcho(ch, pattern(echoSize, firstSeed + i), `channel ${i + 1} of ${n}`);
    }),
  );
}

async function transfer(session: Session, size: number): Promise<void> {
  const ch = await session.open();
  await checkEcho(ch, pattern(size), `the ${size}-byte transfer`);
}

async function halfClose(session: Session): Promise<void> {
  const ch = await session.open();
  try {
    const sent = new TextEncoder().encode("half-close: the echo of these bytes comes after our EOF");
    await ch.write(sent);
    await ch.closeWrite();
    // Our direction is closed, theirs still open: everything comes back.
    const got = await readAll(ch, sent.length);
    if (!equalBytes(got, sent)) throw new ScenarioError(`echoed ${JSON.stringify(new TextDecoder().decode(got))} after our half-close`);
    // readAll stopped at the end of the stream: it stays ended.
    if ((await ch.read()) !== null) throw new ScenarioError("a read after the end of the echo returned bytes");
    const late = await ch.write(sent).then(
      () => undefined,
      (err: unknown) => err,
    );
    if (!(late instanceof QtalkMuxError && late.kind === "channel_closed")) {
      throw new ScenarioError(`a write after our half-close ended with ${String(late)}, want a channel_closed QtalkMuxError`);
    }
  } finally {
    await ch.close();
  }
}

/**
 * One channel whose echo is never read stalls only itself: its writer
 * waits for window while other channels complete their echoes.
 */
async function slowReader(session: Session): Promise<void> {
  const stalled = await session.open();
  let settled = false;
  // Flow control bounds what the peer takes to about its window plus ours
  // (512 KiB each by default): 4 MiB cannot all be taken while no one reads.
  const stalledWrite = stalled.write(pattern(4 * kib * kib, 7)).then(
    () => {
      settled = true;
      return undefined;
    },
    (err: unknown) => {
      settled = true;
      return err;
    },
  );
  try {
    await concurrentEchoes(session, 10, 1000);
    if (settled) {
      throw new ScenarioError(`the 4 MiB write to the unread channel ended (${String(await stalledWrite)}) before the others finished, want it waiting for window`);
    }
  } finally {
    await stalled.close();
  }
  const outcome = await stalledWrite;
  if (!(outcome instanceof QtalkMuxError && outcome.kind === "channel_closed")) {
    throw new ScenarioError(`the stalled write ended with ${String(outcome)} when its channel was closed, want a channel_closed QtalkMuxError`);
  }
  // The session goes on once the stalled channel is gone.
  await concurrentEchoes(session, 1, 2000);
}

/**
 * The peer closes the whole session while this side is writing: reads
 * and writes fail with QtalkMuxErrors, done settles, opens fail.
 */
async function peerCloses(session: Session): Promise<void> {
  const ch = await session.open();
  await ch.write(closeSessionCommand);
  const chunk = pattern(32 * kib);
  const writeError = await (async () => {
    // Writes wait for window, so this loop waits for the peer rather than spinning.
    for (;;) {
      try {
        await ch.write(chunk);
      } catch (err) {
        return err;
      }
    }
  })();
  if (!(writeError instanceof QtalkMuxError)) {
    throw new ScenarioError(`a write after close-session failed with ${String(writeError)}, want a QtalkMuxError`, { cause: writeError });
  }
  const readError = await (async () => {
    for (;;) {
      try {
        if ((await ch.read()) === null) return undefined;
      } catch (err) {
        return err;
      }
    }
  })();
  if (!(readError instanceof QtalkMuxError)) {
    throw new ScenarioError(`a read after close-session ended with ${String(readError ?? "the end of the stream")}, want a QtalkMuxError`);
  }
  await session.done;
  const open = await session.open().then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(open instanceof QtalkMuxError && open.kind === "session_closed")) {
    throw new ScenarioError(`an open after the peer closed the session ended with ${String(open)}, want a session_closed QtalkMuxError`);
  }
  await ch.close();
}

/**
 * Writes sent and half-closes while reading the echo, checks that the
 * SHA-256 of what came back is that of what was sent, and closes ch.
 */
async function checkEcho(ch: Channel, sent: Uint8Array<ArrayBuffer>, what: string): Promise<void> {
  const writing = (async () => {
    await ch.write(sent);
    await ch.closeWrite();
  })();
  let got: Uint8Array<ArrayBuffer>;
  try {
    got = await readAll(ch, sent.length);
  } catch (err) {
    throw new ScenarioError(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    // After a failed read, the write may be waiting for window: close() ends it.
    await ch.close();
    await writing.catch(() => {});
  }
  await writing;
  if (got.length !== sent.length) throw new ScenarioError(`${what}: ${got.length} bytes came back, want ${sent.length}`);
  const [want, have] = await Promise.all([sha256Hex(sent), sha256Hex(got)]);
  if (want !== have) throw new ScenarioError(`${what}: the echo's SHA-256 is ${have}, want ${want}`);
}

async function sha256Hex(b: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", b));
  return Array.from(digest, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Echoes every channel the peer opens on session until it ends, and
 * resolves with why it ended (session.done). For each channel, the bytes
 * read are written back; after the peer's EOF, this side half-closes, then
 * closes; a channel whose first bytes are closeSessionCommand closes the
 * session instead.
 */
export async function echoSession(session: Session): Promise<Error | undefined> {
  for (;;) {
    let ch: Channel;
    try {
      ch = await session.accept();
    } catch {
      // The session ended: done says why.
      return session.done;
    }
    void echoChannel(session, ch);
  }
}

async function echoChannel(session: Session, ch: Channel): Promise<void> {
  try {
    // The first bytes, held while they may still spell closeSessionCommand.
    let head: Uint8Array | undefined = new Uint8Array(0);
    for (;;) {
      const chunk = await ch.read();
      if (chunk === null) break;
      let out = chunk;
      if (head !== undefined) {
        out = concat(head, chunk);
        const n = Math.min(out.length, closeSessionCommand.length);
        if (!equalBytes(out.subarray(0, n), closeSessionCommand.subarray(0, n))) {
          head = undefined;
        } else if (n === closeSessionCommand.length) {
          await session.close();
          return;
        } else {
          head = out;
          continue;
        }
      }
      await ch.write(out);
    }
    if (head !== undefined && head.length > 0) await ch.write(head);
    await ch.closeWrite();
  } catch {
    // The peer closed the channel, or the session ended (echoSession
    // reports that): either way this channel is done.
  } finally {
    await ch.close();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
