import { ClientError } from '../errors.js';

/**
 * Why a session failed: BAD_FRAME (the peer broke the framing), REFUSED (a path that belongs to no
 * session of ours, or to another one), NO_PATH (no path came back in time), RESET (the peer ended it).
 */
export class SessionError extends ClientError {
  constructor(
    code: 'BAD_FRAME' | 'REFUSED' | 'NO_PATH' | 'RESET',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'SessionError';
  }
}
