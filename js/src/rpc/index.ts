// rpc: one channel per call over a mux Session (spec/rpc.md), wire-compatible with Go's package rpc.

export { Client, Response, defaultOpenAhead, type CallOptions, type ClientOptions } from "./client.js";
export { CBOR, JSON, codecByName, registerCodec, type Codec } from "./codec.js";
export { CBORDecodeError, CBORSimple, decodeCBOR, maxCBORContainers, maxCBORDepth, maxCBORElements } from "./cbor.js";
export {
  Code,
  QtalkError,
  abortCode,
  codeName,
  codeOf,
  isMalformed,
  malformedPrefix,
  type QtalkErrorOptions,
} from "./errors.js";
export { Peer, labelPing, type PeerOptions } from "./peer.js";
export { RawChannel } from "./raw.js";
export { RespondMux, isPrefixPattern } from "./respondmux.js";
export {
  Call,
  Server,
  serveSession,
  type Handler,
  type HandlerFunc,
  type HandlerObject,
  type Responder,
  type ServeOptions,
  type ServerOptions,
} from "./server.js";
export { FrameKind, defaultMaxFrameSize, type Metadata } from "./wire.js";
