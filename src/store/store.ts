/**
 * What the server keeps across restarts: accounts, session tokens and buddy relations.
 * Asynchronous on purpose, so that a PostgreSQL implementation can replace SQLite for several server
 * nodes (SPEC §4.8) without touching the server's logic.
 */

export interface Account {
  user: string;
  /** scrypt output; never leaves the server. */
  passwordHash: Buffer;
  /** Per-user random salt. */
  salt: Buffer;
  /** scrypt cost parameters the hash was made with, so that they can be raised later. */
  kdf: KdfParams;
  /** Ed25519 public key, hex: the key this user's buddies pin (SPEC §4.2). */
  publicKey: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

export interface KdfParams {
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

/** A session token as stored: only its hash, so that a copy of the database cannot log anyone on. */
export interface SessionTokenRecord {
  tokenHash: string;
  user: string;
  createdAt: number;
  expiresAt: number;
  /** The device the token was issued to (its logon's device name); absent for tokens of older servers. */
  device?: string;
}

/** `pending` until the target accepts; a declined or removed relation is deleted, not marked. */
export type BuddyRelationState = 'pending' | 'accepted';

/** At most one relation per pair of users, in either direction. */
export interface BuddyRelation {
  requester: string;
  target: string;
  state: BuddyRelationState;
  createdAt: number;
}

export interface AccountStore {
  /** False when the user already exists. */
  createAccount(account: Account): Promise<boolean>;
  findAccount(user: string): Promise<Account | undefined>;
  /** Replaces the password hash; false when the user does not exist. */
  updatePassword(user: string, hash: Pick<Account, 'passwordHash' | 'salt' | 'kdf'>): Promise<boolean>;
}

export interface TokenStore {
  saveToken(record: SessionTokenRecord): Promise<void>;
  findToken(tokenHash: string): Promise<SessionTokenRecord | undefined>;
  deleteToken(tokenHash: string): Promise<void>;
  /** Removes tokens that expired before `now`; returns how many. */
  deleteExpiredTokens(now: number): Promise<number>;
  /** Every token of `user` (expired ones too, until swept). */
  tokensOf(user: string): Promise<SessionTokenRecord[]>;
}

/** XEP-0191-like block lists: `user` blocks `blocked` (who need not be an account). */
export interface BlockStore {
  putBlock(user: string, blocked: string, createdAt: number): Promise<void>;
  /** False when there was no such block. */
  deleteBlock(user: string, blocked: string): Promise<boolean>;
  isBlocked(user: string, blocked: string): Promise<boolean>;
  blocksOf(user: string): Promise<string[]>;
}

export interface BuddyStore {
  /** The relation between two users, whichever of them requested it. */
  findRelation(a: string, b: string): Promise<BuddyRelation | undefined>;
  /** Inserts or replaces the relation of the pair. */
  putRelation(relation: BuddyRelation): Promise<void>;
  /** Deletes the relation of the pair; false when there was none. */
  deleteRelation(a: string, b: string): Promise<boolean>;
  /** Every relation the user is part of, as requester or target. */
  relationsOf(user: string): Promise<BuddyRelation[]>;
}

export interface Store extends AccountStore, TokenStore, BuddyStore, BlockStore {
  close(): Promise<void>;
}
