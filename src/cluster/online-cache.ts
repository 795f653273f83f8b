/**
 * A node's copy of users' online entries as read from Redis, kept until the online channel says that
 * user's devices changed (every write to the registry publishes it from inside its script). So a
 * judgement or a signal on any node reads memory, as on one node, and only the first read of a user
 * costs a round trip.
 *
 * A read that was in flight when the user's entries changed is not kept: its reply may predate the
 * change (Redis answers the read and publishes the change on two different connections). Nothing is
 * kept while the subscription is down, and everything is dropped when it comes back: changes published
 * in between were missed.
 */
export class OnlineCache<T> {
  readonly #entries = new Map<string, T>();
  /** Reads in flight per user, and the users whose entries changed while one was. */
  readonly #reading = new Map<string, number>();
  readonly #voided = new Set<string>();
  #generation = 0;

  constructor(
    private readonly maxUsers: number,
    private readonly usable: () => boolean,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The cached value, or `load()`'s, kept if nothing changed meanwhile. */
  async read(user: string, load: () => Promise<T>): Promise<T> {
    if (this.usable()) {
      const cached = this.#entries.get(user);
      if (cached !== undefined) return cached;
    }
    const generation = this.#generation;
    this.#reading.set(user, (this.#reading.get(user) ?? 0) + 1);
    let value: T;
    let voided: boolean;
    try {
      value = await load();
    } finally {
      voided = this.#voided.has(user) || generation !== this.#generation;
      const left = (this.#reading.get(user) ?? 1) - 1;
      if (left > 0) this.#reading.set(user, left);
      else {
        this.#reading.delete(user);
        this.#voided.delete(user);
      }
    }
    if (!voided && this.usable()) {
      // Only what is asked about is kept; when full it starts over (it only saves round trips).
      if (this.#entries.size >= this.maxUsers) this.#entries.clear();
      this.#entries.set(user, value);
    }
    return value;
  }

  /** The users' entries changed. */
  forget(users: Iterable<string>): void {
    for (const user of users) {
      this.#entries.delete(user);
      if (this.#reading.has(user)) this.#voided.add(user);
    }
  }

  /** Changes may have been missed (the subscription was down): nothing kept is trusted. */
  clear(): void {
    this.#generation++;
    this.#entries.clear();
  }
}
