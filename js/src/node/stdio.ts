// stdio: this process's stdin and stdout as one Conn, as Go's
// transport/stdio.go; typically in a child that a parent dialed with exec:.
// Nothing else may write to stdout while the Conn is in use.

import type { Conn, WaitOptions } from "../mux.js";
import { ConnQueue, type ConnListener, type Connector } from "../transport/registry.js";
import { nodeStreamConn } from "./stream-conn.js";

/**
 * Returns a Conn reading process.stdin and writing process.stdout. Closing
 * its writable ends stdout as a stream, but Node keeps the descriptor open,
 * so the peer sees the end when this process exits. close() also destroys
 * stdin, so that it no longer keeps the process alive.
 */
export function stdioConn(): Conn {
  return nodeStreamConn(process.stdin, process.stdout, {
    remoteAddress: "stdio:",
    destroy() {
      process.stdin.destroy();
      process.stdout.end();
    },
  });
}

/** Dials stdio: (the Conn over stdin and stdout) and listens on it: the first accept returns it, later ones wait for close. */
export const stdioConnector: Connector = {
  async dialConn(_a, options: WaitOptions): Promise<Conn> {
    options.signal?.throwIfAborted();
    return stdioConn();
  },
  async listen(_a, options: WaitOptions): Promise<ConnListener> {
    options.signal?.throwIfAborted();
    const queue = new ConnQueue(1);
    let taken = false;
    return {
      address: "stdio:",
      accept(acceptOptions?: WaitOptions) {
        if (!taken) {
          taken = true;
          queue.push(stdioConn());
        }
        return queue.accept(acceptOptions);
      },
      async close() {
        queue.close();
      },
    };
  },
};
