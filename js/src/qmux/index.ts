// qmux: many flow-controlled channels over one byte stream (spec/qmux.md),
// wire-compatible with Go's mux/qmux.

export { Session } from "./session.js";
export { Channel } from "./channel.js";
export {
  type Config,
  defaultAcceptBacklog,
  defaultMaxChannels,
  defaultMaxControlBacklog,
  defaultMaxPacketSize,
  defaultMaxWindowSize,
  defaultWindowSize,
  maxGrownWindows,
  resolveConfig,
} from "./config.js";
