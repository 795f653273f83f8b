/**
 * The shared counters behind every per-user, per-account and per-source limit of the server. Behind an
 * interface so that several server nodes can keep them where every node sees them (issue 12: Redis);
 * MemoryCounters is the single-node implementation. Asynchronous for that reason, although the memory
 * one answers at once. Keys are opaque strings: callers build them with `limitKey()`.
 */
export interface LimitCounters {
  /**
   * Token bucket `key` of `capacity` tokens refilled at `perSecond`: takes `n` tokens and answers true,
   * or takes nothing and answers false when there are too few.
   */
  take(key: string, capacity: number, perSecond: number, n?: number): Promise<boolean>;
  /** Adds `n` to `key`'s count in a fixed window of `windowMs` (started by the first add); the new total. */
  add(key: string, n: number, windowMs: number): Promise<number>;
  /** Marks `key` until `untilMs` (epoch ms), for cool-offs and lockouts; a later mark replaces it. */
  mark(key: string, untilMs: number): Promise<void>;
  /** When `key`'s mark ends (epoch ms); 0 when it is not marked (or no longer). */
  markedUntil(key: string): Promise<number>;
  /** Forgets `key`'s window count and mark. */
  clear(key: string): Promise<void>;
}

/** `kind:part:part`, with parts that cannot contain the separator (user names and IPs never hold NUL). */
export function limitKey(kind: string, ...parts: string[]): string {
  return `${kind}\u0000${parts.join('\u0000')}`;
}
