import { ProtocolError } from '../protocol/errors.js';

/**
 * Redis or PostgreSQL does not answer: the node refuses what it cannot do correctly (a judgement from a
 * registry it cannot read would be a guess) with a code a client can retry on, another node or later.
 */
export class ServiceUnavailableError extends ProtocolError {
  constructor(
    what: 'online registry' | 'store' | 'limit counters' | 'cluster bus',
    options?: { cause?: unknown },
  ) {
    super('UNAVAILABLE', `${what} unavailable, try again`);
    this.name = 'ServiceUnavailableError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
