/**
 * Stable error codes of the control protocol. A caller switches on `code`, never on the message.
 * Codes are part of the wire contract: add new ones, never rename.
 */
export const ERROR_CODES = [
  'BAD_REQUEST', // malformed JSON, wrong shape, unknown type
  'TOO_LARGE', // frame larger than PROTOCOL_LIMITS.maxMessageBytes
  'RATE_LIMITED', // too many requests, or too many pending
  'UNSUPPORTED_VERSION',
  'AUTH_FAILED', // wrong user or password or token: one code for all, no user enumeration
  'USER_EXISTS',
  'NOT_LOGGED_ON',
  'NOT_BUDDY', // no accepted buddy relation (also: pending, removed, unknown user)
  'BUDDY_OFFLINE',
  'NO_REQUEST', // accept/decline without a pending request
  'FORBIDDEN', // the operator switched this off (reveal addresses, relay)
  'RELAY_LIMIT', // relay byte or rate limit reached
  'SHUTTING_DOWN',
  'INTERNAL',
  'NO_SESSION', // account.revoke of a device that holds no session
  'UNAVAILABLE', // the node lost its Redis or PostgreSQL (several nodes): retry later or on another node
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The error object carried in a failed reply. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

/** Base of every typed error in buddylink; `code` is stable, `message` is for people. */
export class BuddylinkError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BuddylinkError';
    this.code = code;
  }
}

/** An error the server answered with, or one the server raises for a request. */
export class ProtocolError extends BuddylinkError {
  declare readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'ProtocolError';
  }

  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}
