// Public surface of the transport module: binary frames over authenticated WebSocket links.
// No TensorFlow import here: frames carry plain typed arrays.
export { FrameKind, frameKindName, type DType, type FrameKindName, type FrameData } from './kinds.ts';
export {
  decodeFrame,
  encodeFrame,
  frameHeaderBytes,
  FrameError,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MAX_RANK,
  type DecodeLimits,
  type Frame,
} from './frame.ts';
export { tokensEqual } from './auth.ts';
export { ReceiveTimeoutError } from './mailbox.ts';
export { CloseCode } from './link.ts';
export {
  DEFAULT_HIGH_WATER_MARK_BYTES,
  DEFAULT_MAX_QUEUED_FRAMES,
  LinkClosedError,
  type FrameScreen,
  type Link,
  type LinkClosedInfo,
  type LinkEvents,
  type LinkOptions,
  type LinkStats,
} from './link-api.ts';
export { AcceptTimeoutError, listenLink, type LinkServer, type ListenLinkOptions } from './server.ts';
export { ConnectError, connectLink, type ConnectLinkOptions } from './client.ts';
