import { BuddylinkError } from '../protocol/errors.js';

/**
 * Why a packet is not an acceptable STUN message. Stable codes: callers (the server's drop counter,
 * tests) switch on them.
 */
export const STUN_ERROR_CODES = [
  'STUN_TRUNCATED', // shorter than a header, or than the length it announces
  'STUN_NOT_STUN', // first two bits not zero
  'STUN_BAD_COOKIE', // magic cookie missing (RFC 3489 clients are not served, see server.ts)
  'STUN_BAD_LENGTH', // header length not a multiple of 4, or not matching the datagram
  'STUN_BAD_ATTRIBUTE', // an attribute overruns the message or has an impossible value
  'STUN_BAD_FINGERPRINT', // FINGERPRINT present but wrong, or not last
  'STUN_BAD_INTEGRITY', // MESSAGE-INTEGRITY misplaced or wrong
  'STUN_UNKNOWN_ATTRIBUTE', // a comprehension-required attribute we do not understand
  'STUN_MISSING_ATTRIBUTE', // an attribute the caller needs is absent
  'STUN_TIMEOUT', // the client gave up after its retransmissions (RFC 8489 §6.2.1)
  'STUN_ERROR_RESPONSE', // the server answered with an error response
] as const;

export type StunErrorCode = (typeof STUN_ERROR_CODES)[number];

export class StunError extends BuddylinkError {
  declare readonly code: StunErrorCode;
  constructor(code: StunErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StunError';
  }
}
