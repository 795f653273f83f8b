import type { LimitCounters } from './counters.js';

interface Bucket {
  tokens: number;
  last: number;
  /** When a full refill would have happened: the entry is worthless after that. */
  staleAt: number;
}

interface Window {
  count: number;
  endsAt: number;
}

/** Entries kept before expired ones are swept; a sweep is O(n) but runs once per this many inserts. */
const SWEEP_EVERY = 10_000;

/**
 * LimitCounters in this process's memory: right for one server node. Expired entries are swept as new
 * ones arrive, so memory follows the number of keys active within their windows, not all keys ever seen.
 */
export class MemoryCounters implements LimitCounters {
  readonly #buckets = new Map<string, Bucket>();
  readonly #windows = new Map<string, Window>();
  readonly #marks = new Map<string, number>();
  #inserts = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async take(key: string, capacity: number, perSecond: number, n = 1): Promise<boolean> {
    return this.takeNow(key, capacity, perSecond, n);
  }

  /** The synchronous form, for hot paths of this node (STUN per source). */
  takeNow(key: string, capacity: number, perSecond: number, n = 1): boolean {
    const t = this.now();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = { tokens: capacity, last: t, staleAt: 0 };
      this.#buckets.set(key, bucket);
      this.#inserted();
    }
    bucket.tokens = Math.min(capacity, bucket.tokens + ((t - bucket.last) / 1000) * perSecond);
    bucket.last = t;
    bucket.staleAt = t + (perSecond > 0 ? (capacity / perSecond) * 1000 : Number.POSITIVE_INFINITY);
    if (bucket.tokens < n) return false;
    bucket.tokens -= n;
    return true;
  }

  async add(key: string, n: number, windowMs: number): Promise<number> {
    return this.addNow(key, n, windowMs);
  }

  addNow(key: string, n: number, windowMs: number): number {
    const t = this.now();
    let window = this.#windows.get(key);
    if (!window || window.endsAt <= t) {
      window = { count: 0, endsAt: t + windowMs };
      this.#windows.set(key, window);
      this.#inserted();
    }
    window.count += n;
    return window.count;
  }

  async mark(key: string, untilMs: number): Promise<void> {
    this.#marks.set(key, untilMs);
    this.#inserted();
  }

  async markedUntil(key: string): Promise<number> {
    const until = this.#marks.get(key) ?? 0;
    if (until <= this.now()) {
      this.#marks.delete(key);
      return 0;
    }
    return until;
  }

  async clear(key: string): Promise<void> {
    this.#windows.delete(key);
    this.#marks.delete(key);
    this.#buckets.delete(key);
  }

  /** Entries held, for tests that prove the sweep bounds memory. */
  get size(): number {
    return this.#buckets.size + this.#windows.size + this.#marks.size;
  }

  #inserted(): void {
    if (++this.#inserts % SWEEP_EVERY !== 0) return;
    const t = this.now();
    for (const [k, b] of this.#buckets) if (b.staleAt <= t) this.#buckets.delete(k);
    for (const [k, w] of this.#windows) if (w.endsAt <= t) this.#windows.delete(k);
    for (const [k, until] of this.#marks) if (until <= t) this.#marks.delete(k);
  }
}
