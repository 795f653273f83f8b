export type { PathAttempt } from './attempts.js';
export { Client, type ClientEvents, type CreateAccountOptions, type LogonOptions } from './client.js';
export {
  type AttemptCode,
  BadReplyError,
  ClientError,
  type ClientErrorCode,
  CredentialsMissingError,
  codeOf,
  DisconnectedError,
  JudgeForbiddenError,
  NoPathError,
  TimeoutError,
  TransferError,
  WrongKeyError,
} from './errors.js';
export { defaultHome, Home, type StoredSession } from './home.js';
export { type IdentityStore, type KeyPairBytes, MemoryIdentity } from './identity.js';
export {
  type CloseCode,
  closeCodeOf,
  type MessageErrorCode,
  Mux,
  MuxError,
  type MuxErrorCode,
  type MuxEvents,
  type MuxOptions,
  MuxStream,
  type RequestHandler,
} from './mux/index.js';
export {
  discoverNatBehaviour,
  type NatBehaviour,
  type NatFiltering,
  type NatMapping,
  punchStrategy,
} from './nat-behaviour.js';
export {
  type ConnectOptions,
  DEFAULT_LIVENESS,
  DEFAULT_TIMEOUTS,
  type JudgeChoice,
  type Liveness,
  type PathChoice,
  type PathName,
  type PeerSocketOptions,
  type Timeouts,
} from './options.js';
export { type ConnectionFacts, PeerConnection, type TransportName } from './peer-connection.js';
export { SessionError } from './session/errors.js';
export type { PathUse } from './session/lane.js';
export type { PathMove } from './session/session.js';
export { StreamReader } from './stream-reader.js';
export * from './transfer/index.js';
