import { ClientError } from '../errors.js';
import type { DeclineCode } from './frames.js';

/** The receiver said no to the offer (a person, --from, --max-size, or it is not receiving files). */
export class TransferDeclinedError extends ClientError {
  constructor(
    readonly reason: DeclineCode,
    message: string,
  ) {
    super('DECLINED', message);
    this.name = 'TransferDeclinedError';
  }
}

/**
 * A transfer stopped on purpose (Ctrl-C): by this side (CANCELLED) or by the other (PEER_CANCELLED).
 * What arrived so far is kept for a resume.
 */
export class TransferCancelledError extends ClientError {
  constructor(message: string, by: 'us' | 'peer' = 'us') {
    super(by === 'us' ? 'CANCELLED' : 'PEER_CANCELLED', message);
    this.name = 'TransferCancelledError';
  }
}
