// Errors of the mux layer, named as Go's package mux names them. Each is a
// QtalkMuxError with a kind; test with isMuxError(err, "protocol") or
// err instanceof QtalkMuxError && err.kind === "protocol".

/** What went wrong, one word per sentinel of Go's package mux. */
export type MuxErrorKind =
  | "session_closed" // mux.ErrSessionClosed: the session ended
  | "open_rejected" // mux.ErrOpenRejected: the peer refused the channel
  | "channel_closed" // mux.ErrChannelClosed: the channel (or its direction) is closed
  | "protocol" // mux.ErrProtocol: the peer broke the protocol; the session ended
  | "too_many_channels"; // mux.ErrTooManyChannels: this side holds its maximum

const prefixes: Record<MuxErrorKind, string> = {
  session_closed: "mux: session closed",
  open_rejected: "mux: open rejected by peer",
  channel_closed: "mux: channel closed",
  protocol: "mux: protocol error",
  too_many_channels: "mux: too many open channels",
};

/** An error of the mux layer; cause keeps the underlying error, if any. */
export class QtalkMuxError extends Error {
  readonly kind: MuxErrorKind;
  constructor(kind: MuxErrorKind, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${prefixes[kind]}: ${detail}` : prefixes[kind], options);
    this.name = "QtalkMuxError";
    this.kind = kind;
  }
}

/** Reports whether err, or an error in its cause chain, is a QtalkMuxError of that kind. */
export function isMuxError(err: unknown, kind: MuxErrorKind): boolean {
  for (let e = err, i = 0; e instanceof Error && i < 16; e = e.cause, i++) {
    if (e instanceof QtalkMuxError && e.kind === kind) return true;
  }
  return false;
}
