// The Node connectors, registered by the Node entry point.

import { registerConnector } from "../transport/registry.js";
import { execConnector } from "./exec.js";
import { tcpConnector, unixConnector } from "./net.js";
import { stdioConnector } from "./stdio.js";

/**
 * Registers the Node connectors: tcp, unix, stdio, exec. Calling it again
 * registers them again, replacing what was registered meanwhile.
 */
export function registerNodeConnectors(): void {
  registerConnector("tcp", tcpConnector);
  registerConnector("unix", unixConnector);
  registerConnector("stdio", stdioConnector);
  registerConnector("exec", execConnector);
}
