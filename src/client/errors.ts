import { BuddylinkError, type ErrorCode, ProtocolError } from '../protocol/index.js';
import type { PathAttempt } from './attempts.js';
import type { CloseCode } from './mux/errors.js';

/**
 * Every code a `ClientError` carries: switch on these, never on messages. The server's codes
 * (`ErrorCode`) arrive as `ProtocolError`; stream close codes (`CloseCode`) as `MuxError` or on a
 * connection's error. README.md "Errors" has the table.
 */
export type ClientErrorCode =
  | 'ABORTED' // the caller's signal, or client.close()
  | 'TIMEOUT' // a step did not finish in time
  | 'DISCONNECTED' // the control connection to the server is gone
  | 'NO_CREDENTIALS'
  | 'NO_PATH' // every path failed; `attempts` says why
  | 'JUDGE_FORBIDDEN'
  | 'WRONG_KEY' // the peer did not prove the pinned key
  | 'BAD_REPLY' // the server's reply did not match the protocol
  | 'TRANSFER_FAILED'
  | 'DECLINED' // the buddy's device does not take connections
  | 'CANCELLED' // the buddy cancelled the path
  | 'SUPERSEDED' // another path won
  | 'NOT_CHOSEN' // (answering side) the initiator kept another path
  | 'BAD_MARKER'
  | 'BAD_OFFER'
  | 'NO_ADDRESSES'
  | 'HANDSHAKE_FAILED'
  | 'TCP_FAILED'
  | 'RELAY_FAILED'
  | 'BOTH_HARD' // both NATs map per destination: no punching, the relay
  | 'CLOSED' // the connection (session) closed while a try ran
  | 'BAD_FRAME' // the peer broke the session framing
  | 'REFUSED' // the buddy refused the session (a path of another session, or a key it does not pin)
  | 'RESET' // the peer ended the session
  | 'PEER_CANCELLED' // the buddy stopped a transfer
  | 'RELAY_BUDGET' // a transfer does not fit the relay's budget
  | 'BAD_ARGUMENT' // a local argument (a file to send) is unusable
  | 'NOT_BUDDY' // found locally (the buddy list) before the server is asked
  | CloseCode;

/** What a failed attempt's `code` may be: ours, the server's, or SKIPPED (not tried, see `reason`). */
export type AttemptCode = ClientErrorCode | ErrorCode | 'SKIPPED' | 'FAILED';

/**
 * Errors a library user can switch on by `code` (or by class). The server's own codes arrive as
 * `ProtocolError` (AUTH_FAILED, NOT_BUDDY, BUDDY_OFFLINE, FORBIDDEN…); these add what only the client knows.
 */
export class ClientError extends BuddylinkError {
  declare readonly code: ClientErrorCode;
  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ClientError';
  }
}

/** No password and no usable token: the user must log in. */
export class CredentialsMissingError extends ClientError {
  constructor(message = 'not logged in: run `buddylink login USER` or set BUDDYLINK_PASSWORD') {
    super('NO_CREDENTIALS', message);
    this.name = 'CredentialsMissingError';
  }
}

/** Every path was tried and none produced a verified connection; `attempts` says why each failed. */
export class NoPathError extends ClientError {
  readonly attempts: PathAttempt[];
  constructor(buddy: string, attempts: PathAttempt[]) {
    const why = attempts.map((a) => `${a.path}: ${a.reason ?? 'failed'}`).join('; ');
    super('NO_PATH', `no path to ${buddy} worked (${why || 'nothing tried'})`);
    this.name = 'NoPathError';
    this.attempts = attempts;
  }
}

/** judge 'client' needs the buddy's registered address, which the operator did not reveal (S204). */
export class JudgeForbiddenError extends ClientError {
  constructor() {
    super(
      'JUDGE_FORBIDDEN',
      "the server does not reveal registered addresses: judge 'client' needs --reveal-addresses on the server",
    );
    this.name = 'JudgeForbiddenError';
  }
}

/** The peer completed a handshake with a key other than the one pinned at acceptance (§4.2). */
export class WrongKeyError extends ClientError {
  constructor(buddy: string) {
    super('WRONG_KEY', `the peer did not prove ${buddy}'s key`);
    this.name = 'WrongKeyError';
  }
}

/** Something did not happen in time; `what` names the step. */
export class TimeoutError extends ClientError {
  constructor(what: string, ms: number) {
    super('TIMEOUT', `${what}: no answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** The control channel is gone (closed by us, by the server, or the network). */
export class DisconnectedError extends ClientError {
  constructor(message = 'not connected to the server') {
    super('DISCONNECTED', message);
    this.name = 'DisconnectedError';
  }
}

/** A reply or event that does not match the protocol's schema. */
export class BadReplyError extends ClientError {
  constructor(message: string) {
    super('BAD_REPLY', message);
    this.name = 'BadReplyError';
  }
}

/** A peer stream's application data broke its framing, or a transfer's hash did not match. */
export class TransferError extends ClientError {
  constructor(message: string) {
    super('TRANSFER_FAILED', message);
    this.name = 'TransferError';
  }
}

export function isServerError(error: unknown, code: string): error is ProtocolError {
  return error instanceof ProtocolError && error.code === code;
}

/** The code of any error, for an attempt's report: typed codes as they are, the rest FAILED. */
export function codeOf(error: unknown): AttemptCode {
  if (error instanceof BuddylinkError) return error.code as AttemptCode;
  return 'FAILED';
}

/** A short reason for an attempt's report: the code and message people can act on. */
export function reasonOf(error: unknown): string {
  if (error instanceof BuddylinkError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
