import type NoiseSecretStream from '@hyperswarm/secret-stream';
import { abortableDelay } from './abortable.js';
import { AttemptClock, type PathAttempt } from './attempts.js';
import { type AttemptCode, ClientError, codeOf } from './errors.js';
import type { PathName } from './options.js';

export interface Winner {
  path: PathName;
  secret: NoiseSecretStream;
}

/** Takes a proven path into the session; false when it is not wanted (a better one carries). */
export type Carry = (path: PathName, secret: NoiseSecretStream) => boolean;

/** One path being tried: its clock, and the signal that cancels it (the race decided, or its timeout). */
export class RaceTry {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;
  private timedOut = false;

  constructor(
    readonly path: PathName,
    readonly clock: AttemptClock,
    readonly timeoutMs?: number,
  ) {
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.controller.abort();
      }, timeoutMs);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Cancelled: by its own timeout, by a winner, or by a fatal error of the whole connect. */
  get cancelled(): boolean {
    return this.controller.signal.aborted;
  }

  get hasTimedOut(): boolean {
    return this.timedOut;
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.controller.abort();
  }

  end(): void {
    clearTimeout(this.timer);
  }
}

/**
 * The bookkeeping of one connect's race (§4.1): the tries in flight, the first proven path, and the
 * moment the race is decided. The outcome settles at once with the winner; the losers are cancelled
 * then and recorded as superseded then, so the attempts reported with the connection are complete
 * and true while the losers wind down in the background, never awaited.
 */
export class PathRace {
  private won: Winner | undefined;
  private fatal: { error: unknown } | undefined;
  private readonly running = new Set<RaceTry>();
  private readonly decision = new AbortController();
  private resolveOutcome: (winner: Winner | undefined) => void = () => {};
  private rejectOutcome: (error: unknown) => void = () => {};
  /** The winner; undefined when every try failed; rejects with a fatal error (offline, not a buddy…). */
  readonly outcome: Promise<Winner | undefined>;

  constructor(
    private readonly attempts: PathAttempt[],
    private readonly onAttempt: ((attempt: PathAttempt) => void) | undefined,
    cancelledBy?: AbortSignal,
    private readonly carry?: Carry,
  ) {
    this.outcome = new Promise((resolve, reject) => {
      this.resolveOutcome = resolve;
      this.rejectOutcome = reject;
    });
    this.outcome.catch(() => {});
    if (cancelledBy) {
      const onCancel = () =>
        this.fail(
          cancelledBy.reason instanceof Error
            ? cancelledBy.reason
            : new ClientError('ABORTED', 'connect cancelled'),
        );
      if (cancelledBy.aborted) onCancel();
      else {
        cancelledBy.addEventListener('abort', onCancel, { once: true });
        this.decision.signal.addEventListener('abort', () =>
          cancelledBy.removeEventListener('abort', onCancel),
        );
      }
    }
  }

  get winner(): Winner | undefined {
    return this.won;
  }

  /**
   * A direct winner or a fatal error: start nothing new. A relay winner (with `carry`) only carries
   * until a direct path is proven, so the direct tries go on.
   */
  get isOver(): boolean {
    if (this.fatal !== undefined) return true;
    if (this.won === undefined) return false;
    return this.carry === undefined || this.won.path !== 'relay';
  }

  /** Resolves after `ms`, or as soon as the race is decided (its timer gone with it). */
  delay(ms: number): Promise<void> {
    return abortableDelay(ms, this.decision.signal);
  }

  /** Starts timing a try of `path`; the caller checks `isOver` first. */
  begin(path: PathName, timeoutMs?: number): RaceTry {
    const attempt = new RaceTry(path, new AttemptClock(path, this.attempts, this.onAttempt), timeoutMs);
    this.running.add(attempt);
    return attempt;
  }

  /** A path that was not tried, and why (S3: local addresses are not sent to a different NAT). */
  skip(path: PathName, reason: string): void {
    new AttemptClock(path, this.attempts, this.onAttempt).finish(false, reason, 'SKIPPED');
  }

  /**
   * A try proved the buddy's pinned key. The first one wins: every other try still running is
   * recorded as superseded and cancelled now. A later one is closed and recorded as superseded.
   */
  prove(attempt: RaceTry, secret: NoiseSecretStream): void {
    this.running.delete(attempt);
    attempt.end();
    const wanted = !this.isOver && (this.carry ? this.carry(attempt.path, secret) : true);
    if (!wanted) {
      secret.destroy();
      if (this.won) attempt.clock.finish(false, `superseded by ${this.won.path}`, 'SUPERSEDED');
      else attempt.clock.finish(false, 'the connection closed', 'CLOSED');
      return;
    }
    this.won = { path: attempt.path, secret };
    attempt.clock.finish(true);
    this.resolveOutcome(this.won);
    // A relay start leaves the direct tries running: the first direct path proven takes over.
    if (!this.isOver) return;
    for (const loser of this.running) this.supersede(loser, attempt.path);
    this.running.clear();
    this.decision.abort();
  }

  private supersede(loser: RaceTry, by: PathName): void {
    loser.clock.finish(false, `superseded by ${by}`, 'SUPERSEDED');
    loser.cancel();
    this.running.delete(loser);
  }

  /** A try failed; recorded with `reason` unless it was already recorded when it was cancelled. */
  lose(attempt: RaceTry, reason: string, code?: AttemptCode): void {
    this.running.delete(attempt);
    attempt.end();
    if (!this.fatal) attempt.clock.finish(false, reason, code);
  }

  /** Offline, not a buddy, disconnected: no path failed, the whole connect did. Ignored once won. */
  fail(error: unknown): void {
    if (this.isOver) return;
    this.fatal = { error };
    if (this.won) {
      // The relay carries and the session ended (or was cancelled) while direct tries ran: they
      // are recorded now, so the report is complete when the connection's close is seen.
      const why = error instanceof Error ? error.message : String(error);
      for (const attempt of this.running) attempt.clock.finish(false, `stopped: ${why}`, codeOf(error));
    }
    for (const attempt of this.running) attempt.cancel();
    this.running.clear();
    this.decision.abort();
    this.rejectOutcome(error);
  }

  /** Every try is over: the outcome is the winner if there is one (else no path worked). */
  settle(): void {
    this.decision.abort();
    this.resolveOutcome(this.won);
  }
}
