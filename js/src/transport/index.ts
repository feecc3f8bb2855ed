// The transport layer's browser-safe API, and the registration of the
// connectors that work everywhere: ws and wss over the web platform's
// WebSocket. The Node entry point registers its own for the other schemes
// (and replaces these).

import { registerConnector } from "./registry.js";
import { webSocketConnector } from "./websocket.js";

export { type Address, AddressError, type AddressSyntax, addressArgs, formatAddress, parseAddress } from "./address.js";
export { TransportError, type TransportErrorKind, isTransportError } from "./errors.js";
export {
  type Connector,
  type ConnListener,
  ConnQueue,
  defaultAcceptQueue,
  type DialOptions,
  type Listener,
  dial,
  listen,
  registerConnector,
} from "./registry.js";
export {
  closeStatusError,
  defaultWebSocketHighWaterMark,
  defaultWebSocketMaxQueued,
  dialWebSocket,
  webSocketConn,
  webSocketConnector,
  type WebSocketOptions,
  webSocketURL,
} from "./websocket.js";

const browserWebSocket = webSocketConnector();
registerConnector("ws", browserWebSocket, ["websocket"]);
registerConnector("wss", browserWebSocket);
