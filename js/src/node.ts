// The package's Node entry point: everything of the browser entry, the
// Node transports (tcp, unix, stdio, exec, and ws and wss with a WebSocket
// client and server of its own), registered for dial and listen.

import { registerNodeConnectors } from "./node/connectors.js";

export * from "./index.js";
// Also part of the browser entry; named here too so that this entry is
// complete whatever index.ts re-exports (the same bindings, no conflict).
export * from "./transport/index.js";
export { registerNodeConnectors } from "./node/connectors.js";
export { dialExec, execConnector, type ExecConn, execKillGraceMs } from "./node/exec.js";
export { socketConn, tcpConnector, unixConnector } from "./node/net.js";
export { stdioConn, stdioConnector } from "./node/stdio.js";
export { nodeStreamConn, type NodeConnOptions, defaultReadHighWaterMark } from "./node/stream-conn.js";
export {
  applyMask,
  // Named apart: defaultMaxFrameSize is rpc's (4 MiB), in both entries.
  defaultMaxFrameSize as defaultWebSocketMaxFrameSize,
  dialNodeWebSocket,
  listenNodeWebSocket,
  type NodeWebSocketOptions,
  nodeWebSocketConnector,
  webSocketAccept,
  type WebSocketListenOptions,
} from "./node/websocket.js";

registerNodeConnectors();
