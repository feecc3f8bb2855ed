// Connectors by scheme, and dial and listen by address, as Go's
// transport.Register, Dial and Listen: a connector gives byte streams
// (Conns), and dial and listen run a qmux Session over each one.

import type { Conn, WaitOptions } from "../mux.js";
import { Session, resolveConfig, type Config } from "../qmux/index.js";
import { declareScheme, formatAddress, goQuote, parseAddress, type Address } from "./address.js";
import { messageOf, TransportError } from "./errors.js";

/** Accepts the Conns of the peers that dial a connector's listener. */
export interface ConnListener {
  /** Waits for the next Conn; rejects with a "listener_closed" TransportError after close. */
  accept(options?: WaitOptions): Promise<Conn>;
  /** Stops listening; pending and later accepts fail. Conns already accepted stay open. */
  close(): Promise<void>;
  /** The address listened on, dialable, with the port the system chose for port 0. */
  readonly address: string;
}

/**
 * Dials and listens on the addresses of a scheme. The signal bounds only
 * the setup (connecting, the handshake, binding): the Conn or listener
 * outlives it. Addresses arrive parsed; subport is for the layers above.
 */
export interface Connector {
  dialConn(address: Address, options: WaitOptions): Promise<Conn>;
  /** Left out by connectors that cannot listen (exec). */
  listen?(address: Address, options: WaitOptions): Promise<ConnListener>;
}

const connectors = new Map<string, Connector>();

/**
 * Makes connector dial and listen for scheme and its aliases. Registering
 * a scheme again replaces its connector (the Node entry replaces the
 * browser's WebSocket connector with its own). A scheme that is not one of
 * the built-in ones parses in the generic URL form, as in Go. Throws a
 * TypeError for a name that is not a lower-case URL scheme, or an alias
 * that already names another scheme.
 */
export function registerConnector(scheme: string, connector: Connector, aliases: readonly string[] = []): void {
  declareScheme(scheme, aliases);
  connectors.set(scheme, connector);
}

/** Options of dial and listen. */
export interface DialOptions extends WaitOptions {
  /** The qmux settings of the sessions; checked before connecting. */
  config?: Partial<Config>;
}

/** Accepts sessions from the peers that dial it. */
export interface Listener {
  /** Waits for the next peer and returns a session over its Conn. */
  accept(options?: WaitOptions): Promise<Session>;
  /** Stops listening; pending and later accepts fail. Sessions already accepted stay open. */
  close(): Promise<void>;
  /** The address listened on, with the port the system chose for port 0. */
  readonly address: string;
}

/**
 * Connects to address (see parseAddress) with the connector of its scheme
 * and returns a session over the Conn. The signal bounds connecting only;
 * when it aborts, dial rejects with its reason.
 */
export async function dial(address: string, options: DialOptions = {}): Promise<Session> {
  const a = parseAddress(address);
  resolveConfig(options.config);
  const connector = connectorOf(a, "dial");
  let conn: Conn;
  try {
    conn = await connector.dialConn(a, { signal: options.signal });
  } catch (err) {
    throw wrapSetupError(err, "dial", a, options.signal);
  }
  return new Session(conn, options.config);
}

/**
 * Listens on address (see parseAddress) with the connector of its scheme.
 * The signal bounds setting up the listener only.
 */
export async function listen(address: string, options: DialOptions = {}): Promise<Listener> {
  const a = parseAddress(address);
  resolveConfig(options.config);
  const connector = connectorOf(a, "listen");
  if (connector.listen === undefined) {
    throw new TransportError(
      "unsupported",
      `transport: listen ${formatAddress(a)}: transport: unsupported operation: cannot listen on a ${a.scheme} address`,
    );
  }
  let connListener: ConnListener;
  try {
    connListener = await connector.listen(a, { signal: options.signal });
  } catch (err) {
    throw wrapSetupError(err, "listen", a, options.signal);
  }
  const config = options.config;
  return {
    address: connListener.address,
    async accept(options?: WaitOptions) {
      return new Session(await connListener.accept(options), config);
    },
    close: () => connListener.close(),
  };
}

function connectorOf(a: Address, op: "dial" | "listen"): Connector {
  const connector = connectors.get(a.scheme);
  if (connector === undefined) {
    const hint = ["tcp", "unix", "stdio", "exec"].includes(a.scheme) ? ` (in Node, import "@qtalkkit/qtalk/node")` : "";
    throw new TransportError(
      "unsupported",
      `transport: ${op} ${formatAddress(a)}: transport: unsupported operation: no connector for ${goQuote(a.scheme)} here${hint}`,
    );
  }
  return connector;
}

/** The error of a failed dial or listen: the abort reason as is, anything else wrapped with the address. */
function wrapSetupError(err: unknown, op: "dial" | "listen", a: Address, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted && err === signal.reason) return err;
  return new TransportError(op, `transport: ${op} ${formatAddress(a)}: ${messageOf(err)}`, { cause: err });
}

/** The Conns a listener holds for accept by default. */
export const defaultAcceptQueue = 64;

/**
 * Hands the Conns a listener receives to accept. It holds at most limit
 * Conns that accept has not taken; a Conn arriving when it is full is
 * closed at once (its peer sees the stream end), as a full backlog refuses
 * connections.
 */
export class ConnQueue {
  private readonly conns: Conn[] = [];
  private readonly waiters: { resolve(c: Conn): void; reject(err: unknown): void }[] = [];
  private error: Error | undefined;

  constructor(private readonly limit = defaultAcceptQueue) {}

  /** Queues conn for accept, or closes it if the queue is full or ended. */
  push(conn: Conn): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) return waiter.resolve(conn);
    if (this.error !== undefined || this.conns.length >= this.limit) return conn.close();
    this.conns.push(conn);
  }

  accept(options?: WaitOptions): Promise<Conn> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.error !== undefined) return Promise.reject(this.error);
    const conn = this.conns.shift();
    if (conn !== undefined) return Promise.resolve(conn);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(signal!.reason);
      };
      const waiter = {
        resolve: (c: Conn) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(c);
        },
        reject: (err: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(err);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /**
   * Ends the queue: accept fails with err from now on (a "listener_closed"
   * TransportError by default) and the Conns not taken are closed. Only the
   * first call has an effect.
   */
  close(err: Error = listenerClosed()): void {
    if (this.error !== undefined) return;
    this.error = err;
    for (const conn of this.conns.splice(0)) conn.close();
    for (const waiter of this.waiters.splice(0)) waiter.reject(err);
  }
}

/** The error of accept on a closed listener, as Go's ErrListenerClosed. */
export function listenerClosed(): TransportError {
  return new TransportError("listener_closed", "transport: listener closed: use of closed network connection");
}
