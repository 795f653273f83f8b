import { ClientError } from './errors.js';

/** Settles with `promise`, or rejects with ABORTED as soon as `signal` aborts (the work itself runs on). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(new ClientError('ABORTED', 'attempt cancelled'));
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new ClientError('ABORTED', 'attempt cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Resolves after `ms`, or at once when `signal` aborts: its timer never outlives what it waits for. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * A signal that aborts when any of `signals` does (AbortSignal.any needs Node 20.3); `unlink` drops
 * its listeners once the work is over, so a long-lived signal does not collect them.
 */
export function linkedSignal(signals: (AbortSignal | undefined)[]): {
  signal: AbortSignal;
  unlink: () => void;
} {
  const linked = new AbortController();
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  const onAbort = function (this: AbortSignal) {
    linked.abort(this.reason);
  };
  const unlink = () => {
    for (const s of present) s.removeEventListener('abort', onAbort);
  };
  for (const s of present) {
    if (s.aborted) {
      linked.abort(s.reason);
      break;
    }
    s.addEventListener('abort', onAbort, { once: true });
  }
  return { signal: linked.signal, unlink };
}
