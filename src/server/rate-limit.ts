/**
 * A token bucket: `capacity` tokens, refilled at `perSecond`. Used for control requests per connection,
 * abuse strikes, and relay bytes per session.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    readonly capacity: number,
    readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#tokens = capacity;
    this.#last = this.now();
  }

  /** Takes `n` tokens if there are that many; false (and nothing taken) otherwise. */
  tryTake(n = 1): boolean {
    this.#refill();
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /** Returns `n` tokens taken for something that turned out not to count (never above capacity). */
  giveBack(n = 1): void {
    this.#tokens = Math.min(this.capacity, this.#tokens + n);
  }

  /**
   * Takes `n` tokens even into debt and returns the milliseconds until the bucket is out of debt again:
   * a stream that must not lose bytes (the relay) waits instead of dropping.
   */
  takeWithDebt(n: number): number {
    this.#refill();
    this.#tokens -= n;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.perSecond) * 1000);
  }

  #refill(): void {
    const t = this.now();
    this.#tokens = Math.min(this.capacity, this.#tokens + ((t - this.#last) / 1000) * this.perSecond);
    this.#last = t;
  }
}
