// Session settings and their defaults, the same as Go's mux/qmux/config.go
// (spec/qmux.md section 8).

import { maxUint32 } from "./wire.js";

/**
 * Initial receive window of each channel: how many bytes the peer may send
 * before this side reads. It covers the bandwidth-delay product of
 * loopback, LANs and moderate WANs, and makes window grants (one per half
 * window read) rare, while bounding what one slow reader makes the peer
 * buffer.
 */
export const defaultWindowSize = 512 << 10;

/**
 * How far a channel's receive window may grow: each grant doubles the
 * window of a channel whose reader consumed half of it, up to this, so that
 * a stream keeps going while its reader is busy (spec/qmux.md section 6).
 */
export const defaultMaxWindowSize = 4 << 20;

/**
 * What the windows grown past windowSize add up to at most in one session:
 * half of Go's default SessionWindowSize, the part of its session's credit
 * that Go's windows grow from. (This side does not bound the initial
 * windows of a session's channels together.)
 */
export const maxGrownWindows = 16 << 20;

/**
 * Largest DATA payload this side accepts: twice SSH's 32 KiB, since a
 * receiver wakes a read per payload (spec/qmux.md section 8).
 */
export const defaultMaxPacketSize = 64 << 10;

/**
 * Channels the peer may open before accept() takes them; as many further
 * opens are left unanswered until accept() makes room, and opens beyond
 * those are refused with OPEN_FAILURE.
 */
export const defaultAcceptBacklog = 256;

/** Channel numbers held at once, both directions counted. */
export const defaultMaxChannels = 4096;

/**
 * Bytes of control messages (replies to the peer's opens and closes) that
 * may wait to be written while the peer does not read; a peer that lets
 * more pile up ends the session.
 */
export const defaultMaxControlBacklog = 64 << 10;

/** Tunes a Session. Fields left out (or 0) take the defaults above. */
export interface Config {
  /** Each channel's initial receive window in bytes, at least maxPacketSize and at most 2^32-1. */
  windowSize: number;
  /**
   * How far a channel's receive window may grow, at least windowSize (and
   * by default the larger of defaultMaxWindowSize and windowSize);
   * windowSize keeps every window fixed.
   */
  maxWindowSize: number;
  /** The largest DATA payload accepted from the peer; longer ones are protocol errors. */
  maxPacketSize: number;
  /** Opened channels waiting for accept(). */
  acceptBacklog: number;
  /** The largest number of channels held at once. */
  maxChannels: number;
  /** Bytes of control messages that may wait to be written; at least 1024. */
  maxControlBacklog: number;
}

/**
 * Returns config with defaults for the fields left out or 0, or throws a
 * RangeError naming the field if the result is unusable.
 */
export function resolveConfig(config: Partial<Config> = {}): Config {
  const windowSize = config.windowSize || defaultWindowSize;
  const c: Config = {
    windowSize,
    maxWindowSize: config.maxWindowSize || Math.max(defaultMaxWindowSize, windowSize),
    maxPacketSize: config.maxPacketSize || defaultMaxPacketSize,
    acceptBacklog: config.acceptBacklog || defaultAcceptBacklog,
    maxChannels: config.maxChannels || defaultMaxChannels,
    maxControlBacklog: config.maxControlBacklog || defaultMaxControlBacklog,
  };
  for (const [name, value] of Object.entries(c)) {
    if (!Number.isInteger(value) || value < 0 || value > maxUint32) {
      throw new RangeError(`qmux: invalid config: ${name} ${value} is not an integer from 0 to 2^32-1`);
    }
  }
  if (c.windowSize < c.maxPacketSize) {
    throw new RangeError(`qmux: invalid config: windowSize ${c.windowSize} is below maxPacketSize ${c.maxPacketSize}`);
  }
  if (c.maxWindowSize < c.windowSize) {
    throw new RangeError(`qmux: invalid config: maxWindowSize ${c.maxWindowSize} is below windowSize ${c.windowSize}`);
  }
  if (c.maxControlBacklog < 1024) {
    throw new RangeError(`qmux: invalid config: maxControlBacklog ${c.maxControlBacklog} is below 1024`);
  }
  return c;
}
