// tcp:// and unix:// with node:net, as Go's transport/net.go.

import * as net from "node:net";
import type { Conn, WaitOptions } from "../mux.js";
import { formatAddress, type Address } from "../transport/address.js";
import { messageOf, TransportError } from "../transport/errors.js";
import { ConnQueue, type ConnListener, type Connector } from "../transport/registry.js";
import { nodeStreamConn } from "./stream-conn.js";

/**
 * A Conn over a connected socket; closing its writable half-closes the
 * socket. A reset ends its readable with an error, never as a clean end
 * (see endWasReset).
 */
export function socketConn(socket: net.Socket, remoteAddress?: string): Conn {
  socket.setNoDelay(true);
  return nodeStreamConn(socket, socket, {
    remoteAddress,
    destroy: () => socket.destroy(),
    onInputEnd: () => endWasReset(socket),
  });
}

const noBytes = new Uint8Array(0);

/**
 * Runs when socket's input ended, and rejects if the connection was reset
 * rather than half-closed by the peer. Node reports many resets as the end
 * of the stream ('end', no 'error'): libuv, when the system reports a
 * hang-up together with data that one read did not take all of, takes the
 * rest and then ends the stream without the read that would have failed
 * with ECONNRESET. So the socket is asked with an empty write, which
 * sends nothing: one the peer half-closed takes it, a reset one fails it
 * (ECONNRESET, or EPIPE). If writes are queued ahead of it, their fate
 * answers instead: libuv fails them in the same poll that reported the
 * end, so the socket has errored by the next turn of the event loop, and
 * a peer that half-closed and does not read cannot hold the end back.
 */
function endWasReset(socket: net.Socket): Promise<void> {
  if (socket.destroyed || socket.writableEnded) return Promise.resolve(); // nothing to ask with
  const queued = socket.writableLength > 0;
  return new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => {
      const code = (err as NodeJS.ErrnoException).code;
      reject(new TransportError("closed", `transport: connection reset by peer (${code ?? err.message})`, { cause: err }));
    };
    socket.write(noBytes, (err) => (err ? failed(err) : resolve()));
    if (queued) {
      setImmediate(() => {
        const err = socket.errored;
        if (err) failed(err);
        else resolve();
      });
    }
  });
}

/** Host and port of a tcp address's host ("h:1", "[::1]:1", ":0"), for node:net. */
export function splitHostPort(hostPort: string): { host: string; port: number } {
  const colon = hostPort.lastIndexOf(":");
  let host = hostPort.slice(0, colon);
  if (host.startsWith("[")) host = host.slice(1, -1);
  return { host, port: Number(hostPort.slice(colon + 1)) };
}

/** The tcp:// address of a socket's end, as Go prints it. */
function tcpAddress(ip: string | undefined, port: number | undefined): string {
  const host = ip !== undefined && ip.includes(":") ? `[${ip}]` : (ip ?? "");
  return `tcp://${host}:${port ?? 0}`;
}

/** Connects a socket, or rejects with the error or the signal's reason. */
export function connectSocket(options: net.NetConnectOpts, signal: AbortSignal | undefined): Promise<net.Socket> {
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ ...options, allowHalfOpen: true });
    const onAbort = () => {
      socket.destroy();
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      signal?.removeEventListener("abort", onAbort);
      socket.removeListener("error", reject);
      resolve(socket);
    });
    socket.once("error", (err) => {
      signal?.removeEventListener("abort", onAbort);
      reject(err);
    });
  });
}

/**
 * Starts server listening, or rejects with the error or the signal's
 * reason (then the server is closed).
 */
export async function startServer(server: net.Server, listenOptions: net.ListenOptions, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      server.close();
      reject(signal!.reason);
    };
    const onError = (err: Error) => {
      signal?.removeEventListener("abort", onAbort);
      reject(err);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    server.once("error", onError);
    server.listen(listenOptions, () => {
      signal?.removeEventListener("abort", onAbort);
      server.removeListener("error", onError);
      resolve();
    });
  });
}

/**
 * Returns a ConnListener over a listening server whose connections go to
 * queue. Closing it stops the server accepting, not the Conns already
 * accepted.
 */
export function serverConnListener(server: net.Server, address: string, queue: ConnQueue): ConnListener {
  // An error of a listening server (running out of file descriptors) ends it.
  server.on("error", (err) => {
    queue.close(new TransportError("listen", `transport: accept: ${messageOf(err)}`, { cause: err }));
    server.close();
  });
  return {
    address,
    accept: (options?: WaitOptions) => queue.accept(options),
    async close() {
      queue.close();
      // Stops accepting now; close's callback would wait for the accepted
      // connections, which the listener does not own.
      server.close();
    },
  };
}

/** Dials and listens on tcp://host:port. */
export const tcpConnector: Connector = {
  async dialConn(a: Address, options: WaitOptions): Promise<Conn> {
    const { host, port } = splitHostPort(a.host);
    const socket = await connectSocket({ host: host || "localhost", port, noDelay: true }, options.signal);
    return socketConn(socket, tcpAddress(socket.remoteAddress, socket.remotePort));
  },
  async listen(a: Address, options: WaitOptions): Promise<ConnListener> {
    const { host, port } = splitHostPort(a.host);
    const queue = new ConnQueue();
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) =>
      queue.push(socketConn(socket, tcpAddress(socket.remoteAddress, socket.remotePort))),
    );
    await startServer(server, { host: host || undefined, port }, options.signal);
    const bound = server.address() as net.AddressInfo;
    return serverConnListener(server, tcpAddress(bound.address, bound.port), queue);
  },
};

/** Dials and listens on unix sockets; a listener removes its socket file when closed. */
export const unixConnector: Connector = {
  async dialConn(a: Address, options: WaitOptions): Promise<Conn> {
    const socket = await connectSocket({ path: a.path }, options.signal);
    return socketConn(socket, formatAddress(a));
  },
  async listen(a: Address, options: WaitOptions): Promise<ConnListener> {
    const address = formatAddress({ ...a, subport: "" });
    const queue = new ConnQueue();
    const server = net.createServer({ allowHalfOpen: true }, (socket) => queue.push(socketConn(socket, address)));
    await startServer(server, { path: a.path }, options.signal);
    return serverConnListener(server, address, queue);
  },
};
