import type { PathName } from '../options.js';
import type { Session } from './session.js';

/** Which paths a round of tries may open. */
export interface Plan {
  lan: boolean;
  internet: boolean;
  relay: boolean;
}

/** One round of tries: `carried` says whether a path of it carried the session; `over` ends with its last try. */
export interface RoundRun {
  carried: Promise<boolean>;
  over: Promise<void>;
}

export interface KeeperOptions {
  /** First delay before direct is tried again while the relay carries; doubles up to 8×. */
  directRetryMs: number;
}

/**
 * The initiator's care of a running session: a lost path starts a new round at once (the relay and
 * a fresh punch, as the plan allows); while the relay carries, direct tries run again with back-off,
 * so a cut that is lifted brings the session back to a direct path.
 */
export class PathKeeper {
  private directRound: Promise<void> | undefined;
  private fullRound: Promise<void> | undefined;
  private retryMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly session: Session,
    private readonly plan: Plan,
    private readonly round: (plan: Plan) => RoundRun,
    private readonly options: KeeperOptions,
  ) {
    this.retryMs = options.directRetryMs;
    session.onLost(() => this.recover());
    session.on('path', (move: { to: PathName }) => {
      if (move.to !== 'relay') this.retryMs = this.options.directRetryMs;
      this.scheduleDirect();
    });
    session.once('close', () => clearTimeout(this.timer));
  }

  /** After the first round: its direct tries may still be running; retry once they are over. */
  watch(first: RoundRun): void {
    this.directRound = first.over;
    first.over.then(() => {
      this.directRound = undefined;
      this.scheduleDirect();
    });
  }

  private get wantsDirect(): boolean {
    return (this.plan.lan || this.plan.internet) && this.plan.relay;
  }

  private scheduleDirect(): void {
    if (!this.wantsDirect || this.session.destroyed || this.timer || this.directRound) return;
    if (this.session.isCarried && this.session.path !== 'relay') return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.options.directRetryMs * 8);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.session.destroyed || this.directRound) return;
      if (this.session.isCarried && this.session.path !== 'relay') return;
      const run = this.round({ ...this.plan, relay: false });
      this.directRound = run.over.then(() => {
        this.directRound = undefined;
        this.scheduleDirect();
      });
    }, delay);
    this.timer.unref();
  }

  /** The carrying path is gone: every allowed path at once; again after a pause if none came. */
  private recover(): void {
    if (this.fullRound || this.session.destroyed) return;
    const run = this.round(this.plan);
    this.fullRound = run.over.then(async () => {
      this.fullRound = undefined;
      if (!this.session.isCarried && !this.session.destroyed) {
        await new Promise((resolve) => setTimeout(resolve, this.options.directRetryMs).unref());
        this.recover();
      }
    });
  }
}
