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

/** The other side stopped the transfer on purpose (Ctrl-C): what arrived so far is kept for resume. */
export class TransferCancelledError extends ClientError {
  constructor(message: string) {
    super('CANCELLED', message);
    this.name = 'TransferCancelledError';
  }
}
