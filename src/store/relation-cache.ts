import type { Account, BuddyRelation, SessionTokenRecord, Store } from './store.js';

/** Accepted pairs kept at most; when full the cache starts over (it only saves reads, never decides). */
export const RELATION_CACHE_MAX_PAIRS = 200_000;

function pairKey(a: string, b: string): string {
  // NUL cannot occur in a user name (protocol/fields.ts), so the key is unambiguous.
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

/** With several nodes on one database (SPEC §4.8), how the cache learns of other nodes' writes. */
export interface SharedCacheHooks {
  /** Tells every node that the pair's relation changed; resolves once the message is on its way. */
  changed(a: string, b: string): Promise<void>;
  /** False while this node may miss invalidations (its bus is down): the cache is then bypassed. */
  invalidationsArrive(): boolean;
}

/**
 * A Store whose accepted buddy relations are remembered in memory. The consent check asks
 * findRelation on every judgement, signal and relay.open; a SQLite lookup costs ~10–14 µs of
 * per-statement overhead against ~0.4 µs for a Map (BENCHMARKS.md, "Same-NAT judgement", profile:
 * ~18 % of the server's busy time). Only accepted relations are cached, filled on read; every
 * putRelation and deleteRelation goes through here and updates the cache before it returns, so a
 * removed buddy is refused from the next request on.
 *
 * A read that was under way while a relation was written is not cached (the write counter moved): it
 * may have seen the store before the write. Several nodes on one database pass SharedCacheHooks: every
 * write is announced to all nodes (src/cluster/bus.ts), which forget the pair.
 */
export class RelationCachingStore implements Store {
  readonly #inner: Store;
  readonly #maxPairs: number;
  readonly #shared: SharedCacheHooks | undefined;
  readonly #accepted = new Map<string, BuddyRelation>();
  #writes = 0;

  constructor(inner: Store, maxPairs = RELATION_CACHE_MAX_PAIRS, shared?: SharedCacheHooks) {
    this.#inner = inner;
    this.#maxPairs = maxPairs;
    this.#shared = shared;
  }

  async findRelation(a: string, b: string): Promise<BuddyRelation | undefined> {
    const key = pairKey(a, b);
    if (!this.#trusted()) return this.#inner.findRelation(a, b);
    const cached = this.#accepted.get(key);
    if (cached) return { ...cached };
    const writesBefore = this.#writes;
    const relation = await this.#inner.findRelation(a, b);
    if (relation?.state === 'accepted' && this.#writes === writesBefore) this.#remember(key, relation);
    return relation;
  }

  async putRelation(relation: BuddyRelation): Promise<void> {
    const key = pairKey(relation.requester, relation.target);
    const writesBefore = ++this.#writes;
    this.#accepted.delete(key);
    await this.#inner.putRelation(relation);
    await this.#shared?.changed(relation.requester, relation.target);
    // Another write while this one was under way may have replaced or deleted it: then read again later.
    if (relation.state === 'accepted' && this.#writes === writesBefore) this.#remember(key, relation);
  }

  async deleteRelation(a: string, b: string): Promise<boolean> {
    this.#writes++;
    this.#accepted.delete(pairKey(a, b));
    const deleted = await this.#inner.deleteRelation(a, b);
    await this.#shared?.changed(a, b);
    return deleted;
  }

  /** Another node changed the pair's relation (its message on the bus): read it again next time. */
  forget(a: string, b: string): void {
    this.#writes++;
    this.#accepted.delete(pairKey(a, b));
  }

  /** Whether the cache may answer: with several nodes, only while invalidations reach this node. */
  #trusted(): boolean {
    if (!this.#shared || this.#shared.invalidationsArrive()) return true;
    this.#accepted.clear();
    return false;
  }

  #remember(key: string, relation: BuddyRelation): void {
    if (this.#accepted.size >= this.#maxPairs) this.#accepted.clear();
    this.#accepted.set(key, { ...relation });
  }

  relationsOf(user: string): Promise<BuddyRelation[]> {
    return this.#inner.relationsOf(user);
  }

  createAccount(account: Account): Promise<boolean> {
    return this.#inner.createAccount(account);
  }

  findAccount(user: string): Promise<Account | undefined> {
    return this.#inner.findAccount(user);
  }

  saveToken(record: SessionTokenRecord): Promise<void> {
    return this.#inner.saveToken(record);
  }

  findToken(tokenHash: string): Promise<SessionTokenRecord | undefined> {
    return this.#inner.findToken(tokenHash);
  }

  deleteToken(tokenHash: string): Promise<void> {
    return this.#inner.deleteToken(tokenHash);
  }

  deleteExpiredTokens(now: number): Promise<number> {
    return this.#inner.deleteExpiredTokens(now);
  }

  updatePassword(user: string, hash: Pick<Account, 'passwordHash' | 'salt' | 'kdf'>): Promise<boolean> {
    return this.#inner.updatePassword(user, hash);
  }

  tokensOf(user: string): Promise<SessionTokenRecord[]> {
    return this.#inner.tokensOf(user);
  }

  putBlock(user: string, blocked: string, createdAt: number): Promise<void> {
    return this.#inner.putBlock(user, blocked, createdAt);
  }

  deleteBlock(user: string, blocked: string): Promise<boolean> {
    return this.#inner.deleteBlock(user, blocked);
  }

  isBlocked(user: string, blocked: string): Promise<boolean> {
    return this.#inner.isBlocked(user, blocked);
  }

  blocksOf(user: string): Promise<string[]> {
    return this.#inner.blocksOf(user);
  }

  close(): Promise<void> {
    this.#accepted.clear();
    return this.#inner.close();
  }
}
