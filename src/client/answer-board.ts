import type { SignalBody } from '../protocol/index.js';
import { ClientError, TimeoutError } from './errors.js';

type Waiter = (body: SignalBody) => void;

/**
 * The initiator's side of S52–S53 / S104–S105: answers (or aborts) to our own offers, matched by
 * buddy, session and scope. An answer nobody waits for (late, or for another session) is dropped.
 */
export class AnswerBoard {
  private readonly waiters = new Map<string, Waiter>();

  expect(
    buddy: string,
    session: string,
    scope: SignalBody['scope'],
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<SignalBody> {
    const key = `${buddy}/${session}/${scope}`;
    // Already cancelled: no waiter, and no timer left behind to hold the process.
    if (signal.aborted) return Promise.reject(new ClientError('ABORTED', 'attempt cancelled'));
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiters.delete(key);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new TimeoutError(`${buddy}'s answer`, timeoutMs));
      }, timeoutMs);
      const onAbort = () => {
        finish();
        reject(new ClientError('ABORTED', 'attempt cancelled'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(key, (body) => {
        finish();
        resolve(body);
      });
    });
  }

  deliver(from: string, body: SignalBody): void {
    this.waiters.get(`${from}/${body.session}/${body.scope}`)?.(body);
  }
}
