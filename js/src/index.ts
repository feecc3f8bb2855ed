// The package's browser-safe entry point. Node-only code is under ./node.

export type { Conn, ConnReceiver, WaitOptions, Session as MuxSession, Channel as MuxChannel } from "./mux.js";
export { QtalkMuxError, isMuxError, type MuxErrorKind } from "./errors.js";
export * from "./qmux/index.js";
export * from "./rpc/index.js";
export * from "./label/index.js";
export { memoryPair, MemoryConnClosedError, defaultMemoryBufferSize, type MemoryPairOptions } from "./transport/memory.js";
export * from "./transport/index.js";
