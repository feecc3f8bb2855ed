// The Node connectors, registered by the Node entry point.

import { registerConnector } from "../transport/registry.js";
import { execConnector } from "./exec.js";
import { tcpConnector, unixConnector } from "./net.js";
import { stdioConnector } from "./stdio.js";
import { nodeWebSocketConnector } from "./websocket.js";

/**
 * Registers the Node connectors: tcp, unix, stdio, exec, and ws and wss
 * with this package's own WebSocket client and server. Calling it again
 * registers them again, replacing what was registered meanwhile.
 */
export function registerNodeConnectors(): void {
  registerConnector("tcp", tcpConnector);
  registerConnector("unix", unixConnector);
  registerConnector("stdio", stdioConnector);
  registerConnector("exec", execConnector);
  const webSocket = nodeWebSocketConnector();
  registerConnector("ws", webSocket, ["websocket"]);
  registerConnector("wss", webSocket);
}
