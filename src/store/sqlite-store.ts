import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { kdfText, orderPair, parseKdf } from './row-codec.js';
import type { Account, BuddyRelation, SessionTokenRecord, Store } from './store.js';

/** File name of the database inside the data directory. */
export const DATABASE_FILE = 'buddylink.sqlite';

interface AccountRow {
  user: string;
  password_hash: Buffer;
  salt: Buffer;
  kdf: string;
  public_key: string;
  created_at: number;
}

interface TokenRow {
  token_hash: string;
  user: string;
  created_at: number;
  expires_at: number;
  device: string | null;
}

interface RelationRow {
  user_lo: string;
  user_hi: string;
  requester: string;
  state: 'pending' | 'accepted';
  created_at: number;
}

/**
 * The Store on SQLite (better-sqlite3). `dataDir` null or ':memory:' gives a private in-memory database,
 * which is what tests use. WAL mode so that a reader (backup, inspection) never blocks the server.
 */
export function openSqliteStore(dataDir: string | null): Store {
  const inMemory = dataDir === null || dataDir === ':memory:';
  if (!inMemory) prepareFiles(dataDir);
  const db = new Database(inMemory ? ':memory:' : join(dataDir, DATABASE_FILE));
  if (!inMemory) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return new SqliteStore(db);
}

/**
 * The database holds password hashes and the buddy graph: no other local user may read it. The data
 * directory is created 0700 and the database file 0600 before SQLite opens it (SQLite gives its -wal and
 * -shm files the database's mode); a database left 0644 by an older server is tightened. An existing
 * directory is left as the operator made it (it may be shared), since the files in it are what matter.
 */
function prepareFiles(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, DATABASE_FILE);
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
}

function migrate(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  const applied = new Set(
    db
      .prepare<[], { version: number }>('SELECT version FROM schema_migrations')
      .all()
      .map((r) => r.version),
  );
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    })();
  }
}

function toRelation(row: RelationRow): BuddyRelation {
  const target = row.requester === row.user_lo ? row.user_hi : row.user_lo;
  return { requester: row.requester, target, state: row.state, createdAt: row.created_at };
}

function toToken(row: TokenRow): SessionTokenRecord {
  const record: SessionTokenRecord = {
    tokenHash: row.token_hash,
    user: row.user,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
  if (row.device !== null) record.device = row.device;
  return record;
}

class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #insertAccount;
  readonly #selectAccount;
  readonly #insertToken;
  readonly #selectToken;
  readonly #deleteToken;
  readonly #deleteExpired;
  readonly #selectRelation;
  readonly #upsertRelation;
  readonly #deleteRelation;
  readonly #selectRelationsOf;
  readonly #updatePassword;
  readonly #selectTokensOf;
  readonly #insertBlock;
  readonly #deleteBlock;
  readonly #selectBlock;
  readonly #selectBlocksOf;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#insertAccount = db.prepare(
      `INSERT INTO accounts (user, password_hash, salt, kdf, public_key, created_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(user) DO NOTHING`,
    );
    this.#selectAccount = db.prepare<[string], AccountRow>('SELECT * FROM accounts WHERE user = ?');
    this.#insertToken = db.prepare(
      `INSERT OR REPLACE INTO session_tokens (token_hash, user, created_at, expires_at, device)
       VALUES (?, ?, ?, ?, ?)`,
    );
    this.#selectToken = db.prepare<[string], TokenRow>('SELECT * FROM session_tokens WHERE token_hash = ?');
    this.#deleteToken = db.prepare('DELETE FROM session_tokens WHERE token_hash = ?');
    this.#deleteExpired = db.prepare('DELETE FROM session_tokens WHERE expires_at < ?');
    this.#selectRelation = db.prepare<[string, string], RelationRow>(
      'SELECT * FROM buddy_relations WHERE user_lo = ? AND user_hi = ?',
    );
    this.#upsertRelation = db.prepare(
      `INSERT INTO buddy_relations (user_lo, user_hi, requester, state, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(user_lo, user_hi) DO UPDATE SET requester = excluded.requester, state = excluded.state`,
    );
    this.#deleteRelation = db.prepare('DELETE FROM buddy_relations WHERE user_lo = ? AND user_hi = ?');
    this.#selectRelationsOf = db.prepare<[string, string], RelationRow>(
      'SELECT * FROM buddy_relations WHERE user_lo = ? OR user_hi = ? ORDER BY created_at',
    );
    this.#updatePassword = db.prepare(
      'UPDATE accounts SET password_hash = ?, salt = ?, kdf = ? WHERE user = ?',
    );
    this.#selectTokensOf = db.prepare<[string], TokenRow>(
      'SELECT * FROM session_tokens WHERE user = ? ORDER BY created_at',
    );
    this.#insertBlock = db.prepare(
      'INSERT INTO blocks (user, blocked, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.#deleteBlock = db.prepare('DELETE FROM blocks WHERE user = ? AND blocked = ?');
    this.#selectBlock = db.prepare<[string, string], { one: number }>(
      'SELECT 1 AS one FROM blocks WHERE user = ? AND blocked = ?',
    );
    this.#selectBlocksOf = db.prepare<[string], { blocked: string }>(
      'SELECT blocked FROM blocks WHERE user = ? ORDER BY created_at',
    );
  }

  async createAccount(a: Account): Promise<boolean> {
    const info = this.#insertAccount.run(
      a.user,
      a.passwordHash,
      a.salt,
      kdfText(a.kdf),
      a.publicKey,
      a.createdAt,
    );
    return info.changes === 1;
  }

  async findAccount(user: string): Promise<Account | undefined> {
    const row = this.#selectAccount.get(user);
    if (!row) return undefined;
    return {
      user: row.user,
      passwordHash: row.password_hash,
      salt: row.salt,
      kdf: parseKdf(row.kdf),
      publicKey: row.public_key,
      createdAt: row.created_at,
    };
  }

  async saveToken(r: SessionTokenRecord): Promise<void> {
    this.#insertToken.run(r.tokenHash, r.user, r.createdAt, r.expiresAt, r.device ?? null);
  }

  async findToken(tokenHash: string): Promise<SessionTokenRecord | undefined> {
    const row = this.#selectToken.get(tokenHash);
    return row ? toToken(row) : undefined;
  }

  async tokensOf(user: string): Promise<SessionTokenRecord[]> {
    return this.#selectTokensOf.all(user).map(toToken);
  }

  async updatePassword(user: string, h: Pick<Account, 'passwordHash' | 'salt' | 'kdf'>): Promise<boolean> {
    return this.#updatePassword.run(h.passwordHash, h.salt, kdfText(h.kdf), user).changes === 1;
  }

  async putBlock(user: string, blocked: string, createdAt: number): Promise<void> {
    this.#insertBlock.run(user, blocked, createdAt);
  }

  async deleteBlock(user: string, blocked: string): Promise<boolean> {
    return this.#deleteBlock.run(user, blocked).changes === 1;
  }

  async isBlocked(user: string, blocked: string): Promise<boolean> {
    return this.#selectBlock.get(user, blocked) !== undefined;
  }

  async blocksOf(user: string): Promise<string[]> {
    return this.#selectBlocksOf.all(user).map((r) => r.blocked);
  }

  async deleteToken(tokenHash: string): Promise<void> {
    this.#deleteToken.run(tokenHash);
  }

  async deleteExpiredTokens(now: number): Promise<number> {
    return this.#deleteExpired.run(now).changes;
  }

  async findRelation(a: string, b: string): Promise<BuddyRelation | undefined> {
    const row = this.#selectRelation.get(...orderPair(a, b));
    return row ? toRelation(row) : undefined;
  }

  async putRelation(r: BuddyRelation): Promise<void> {
    const [lo, hi] = orderPair(r.requester, r.target);
    this.#upsertRelation.run(lo, hi, r.requester, r.state, r.createdAt);
  }

  async deleteRelation(a: string, b: string): Promise<boolean> {
    return this.#deleteRelation.run(...orderPair(a, b)).changes === 1;
  }

  async relationsOf(user: string): Promise<BuddyRelation[]> {
    return this.#selectRelationsOf.all(user, user).map(toRelation);
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
