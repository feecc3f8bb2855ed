// Errors of the transport layer, named as Go's package transport names its
// sentinels. Test with isTransportError(err, "unsupported"), which also
// looks through the causes of wrapping errors.

/** What went wrong; the first four are Go's transport sentinels. */
export type TransportErrorKind =
  | "bad_address" // transport.ErrBadAddress: the address does not parse
  | "unknown_scheme" // transport.ErrUnknownScheme: no connector for the scheme (also a bad address)
  | "unsupported" // transport.ErrUnsupported: the connector does not offer the operation
  | "listener_closed" // transport.ErrListenerClosed: accept after the listener was closed
  | "dial" // dialing failed; cause says why
  | "listen" // listening failed; cause says why
  | "closed" // the connection was closed (by this side, or broken under it)
  | "protocol"; // the peer broke the transport's protocol (WebSocket framing, handshake)

/** An error of the transport layer; cause keeps the underlying error, if any. */
export class TransportError extends Error {
  readonly kind: TransportErrorKind;
  constructor(kind: TransportErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TransportError";
    this.kind = kind;
  }
}

/**
 * Reports whether err, or an error in its cause chain, is a TransportError
 * of that kind. As in Go, an unknown scheme is also a bad address.
 */
export function isTransportError(err: unknown, kind: TransportErrorKind): boolean {
  for (let e = err, i = 0; e instanceof Error && i < 16; e = e.cause, i++) {
    if (e instanceof TransportError && (e.kind === kind || (kind === "bad_address" && e.kind === "unknown_scheme"))) {
      return true;
    }
  }
  return false;
}

/** The text of an error or other thrown value, for messages that wrap it. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
