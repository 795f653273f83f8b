export type { PathAttempt } from './attempts.js';
export { Client, type ClientEvents, type CreateAccountOptions, type LogonOptions } from './client.js';
export {
  BadReplyError,
  ClientError,
  CredentialsMissingError,
  DisconnectedError,
  JudgeForbiddenError,
  NoPathError,
  TimeoutError,
  TransferError,
  WrongKeyError,
} from './errors.js';
export { defaultHome, Home } from './home.js';
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
export { StreamReader } from './stream-reader.js';
export * from './transfer/index.js';
