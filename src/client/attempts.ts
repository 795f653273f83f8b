import type { AttemptCode } from './errors.js';
import type { PathName } from './options.js';

/** One path tried during a connect: what, how long, and why it failed (§4.1: "the result reports…"). */
export interface PathAttempt {
  path: PathName;
  ok: boolean;
  ms: number;
  reason?: string;
  /** Why it failed, as a code to switch on (TIMEOUT, DECLINED, SUPERSEDED, ABORTED…); absent when ok. */
  code?: AttemptCode;
}

/**
 * Times one attempt from its start; `finish` records the outcome once. Later calls are ignored, so
 * a loser recorded as superseded when it was cancelled keeps that entry however it ends afterwards.
 */
export class AttemptClock {
  private readonly started = performance.now();
  private finished = false;
  constructor(
    readonly path: PathName,
    private readonly log: PathAttempt[],
    private readonly onAttempt?: (attempt: PathAttempt) => void,
  ) {}

  get isFinished(): boolean {
    return this.finished;
  }

  finish(ok: boolean, reason?: string, code?: AttemptCode): void {
    if (this.finished) return;
    this.finished = true;
    const attempt: PathAttempt = { path: this.path, ok, ms: Math.round(performance.now() - this.started) };
    if (reason !== undefined) attempt.reason = reason;
    if (!ok) attempt.code = code ?? 'FAILED';
    this.log.push(attempt);
    this.onAttempt?.(attempt);
  }
}
