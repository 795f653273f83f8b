import pg from 'pg';
import { ServiceUnavailableError } from '../errors.js';
import { kdfText, orderPair, parseKdf } from '../row-codec.js';
import type { Account, BuddyRelation, SessionTokenRecord, Store } from '../store.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';

/** Any two-int key of our own: serialises migrations when several nodes start at once. */
const MIGRATION_LOCK = [0x62756464, 0x796c696e] as const;

export interface PostgresStoreOptions {
  /** postgres://user@host:port/database */
  url: string;
  /** Connections kept at most by this node. */
  poolSize?: number;
  /** A query that has no connection within this time fails instead of queueing forever. */
  connectTimeoutMs?: number;
}

/** A store that can also say whether its database answers, for /healthz. */
export interface CheckedStore extends Store {
  ping(): Promise<void>;
}

interface AccountRow {
  user_name: string;
  password_hash: Buffer;
  salt: Buffer;
  kdf: string;
  public_key: string;
  created_at: string;
}

interface TokenRow {
  token_hash: string;
  user_name: string;
  created_at: string;
  expires_at: string;
  device: string | null;
}

function toToken(row: TokenRow): SessionTokenRecord {
  const record: SessionTokenRecord = {
    tokenHash: row.token_hash,
    user: row.user_name,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
  if (row.device !== null) record.device = row.device;
  return record;
}

interface RelationRow {
  user_lo: string;
  user_hi: string;
  requester: string;
  state: 'pending' | 'accepted';
  created_at: string;
}

/**
 * The Store on PostgreSQL, shared by several server nodes (SPEC §4.8). Migrated on open, under an
 * advisory lock so that nodes starting together apply each migration once.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<CheckedStore> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
  });
  // A connection the database dropped (restart) is reported here; the pool replaces it on next use.
  pool.on('error', () => {});
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  return new PostgresStore(pool);
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    const applied = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
        (r) => r.version,
      ),
    );
    for (const m of POSTGRES_MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          Date.now(),
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}

/** SQLSTATE classes 08 (connection), 57P (shutdown), 53 (resources), or no SQLSTATE at all (socket). */
function isConnectionLoss(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith('08') || code.startsWith('57P') || code.startsWith('53');
}

// BIGINT comes back as text (it may exceed 2^53); our times are milliseconds, well inside.
function toRelation(row: RelationRow): BuddyRelation {
  const target = row.requester === row.user_lo ? row.user_hi : row.user_lo;
  return { requester: row.requester, target, state: row.state, createdAt: Number(row.created_at) };
}

class PostgresStore implements CheckedStore {
  readonly #pool: pg.Pool;
  #closed = false;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async ping(): Promise<void> {
    await this.#query('SELECT 1');
  }

  /**
   * A query; losing the database (refused, reset, shut down, no connection in time) becomes a typed
   * UNAVAILABLE, while a constraint or SQL error stays what it is (a bug, answered INTERNAL).
   */
  async #query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.#pool.query<R>(sql, values);
    } catch (err) {
      if (isConnectionLoss(err)) throw new ServiceUnavailableError('store', { cause: err });
      throw err;
    }
  }

  async createAccount(a: Account): Promise<boolean> {
    const result = await this.#query(
      `INSERT INTO accounts (user_name, password_hash, salt, kdf, public_key, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_name) DO NOTHING`,
      [a.user, a.passwordHash, a.salt, kdfText(a.kdf), a.publicKey, a.createdAt],
    );
    return result.rowCount === 1;
  }

  async findAccount(user: string): Promise<Account | undefined> {
    const { rows } = await this.#query<AccountRow>('SELECT * FROM accounts WHERE user_name = $1', [user]);
    const row = rows[0];
    if (!row) return undefined;
    return {
      user: row.user_name,
      passwordHash: row.password_hash,
      salt: row.salt,
      kdf: parseKdf(row.kdf),
      publicKey: row.public_key,
      createdAt: Number(row.created_at),
    };
  }

  async saveToken(r: SessionTokenRecord): Promise<void> {
    await this.#query(
      `INSERT INTO session_tokens (token_hash, user_name, created_at, expires_at, device)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (token_hash) DO UPDATE SET user_name = excluded.user_name,
         created_at = excluded.created_at, expires_at = excluded.expires_at, device = excluded.device`,
      [r.tokenHash, r.user, r.createdAt, r.expiresAt, r.device ?? null],
    );
  }

  async findToken(tokenHash: string): Promise<SessionTokenRecord | undefined> {
    const { rows } = await this.#query<TokenRow>('SELECT * FROM session_tokens WHERE token_hash = $1', [
      tokenHash,
    ]);
    const row = rows[0];
    return row ? toToken(row) : undefined;
  }

  async tokensOf(user: string): Promise<SessionTokenRecord[]> {
    const { rows } = await this.#query<TokenRow>(
      'SELECT * FROM session_tokens WHERE user_name = $1 ORDER BY created_at',
      [user],
    );
    return rows.map(toToken);
  }

  async updatePassword(user: string, h: Pick<Account, 'passwordHash' | 'salt' | 'kdf'>): Promise<boolean> {
    const result = await this.#query(
      'UPDATE accounts SET password_hash = $1, salt = $2, kdf = $3 WHERE user_name = $4',
      [h.passwordHash, h.salt, kdfText(h.kdf), user],
    );
    return result.rowCount === 1;
  }

  async putBlock(user: string, blocked: string, createdAt: number): Promise<void> {
    await this.#query(
      'INSERT INTO blocks (user_name, blocked, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [user, blocked, createdAt],
    );
  }

  async deleteBlock(user: string, blocked: string): Promise<boolean> {
    const result = await this.#query('DELETE FROM blocks WHERE user_name = $1 AND blocked = $2', [
      user,
      blocked,
    ]);
    return result.rowCount === 1;
  }

  async isBlocked(user: string, blocked: string): Promise<boolean> {
    const { rows } = await this.#query('SELECT 1 FROM blocks WHERE user_name = $1 AND blocked = $2', [
      user,
      blocked,
    ]);
    return rows.length > 0;
  }

  async blocksOf(user: string): Promise<string[]> {
    const { rows } = await this.#query<{ blocked: string }>(
      'SELECT blocked FROM blocks WHERE user_name = $1 ORDER BY created_at',
      [user],
    );
    return rows.map((r) => r.blocked);
  }

  async deleteToken(tokenHash: string): Promise<void> {
    await this.#query('DELETE FROM session_tokens WHERE token_hash = $1', [tokenHash]);
  }

  async deleteExpiredTokens(now: number): Promise<number> {
    return (await this.#query('DELETE FROM session_tokens WHERE expires_at < $1', [now])).rowCount ?? 0;
  }

  async findRelation(a: string, b: string): Promise<BuddyRelation | undefined> {
    const { rows } = await this.#query<RelationRow>(
      'SELECT * FROM buddy_relations WHERE user_lo = $1 AND user_hi = $2',
      orderPair(a, b),
    );
    return rows[0] ? toRelation(rows[0]) : undefined;
  }

  async putRelation(r: BuddyRelation): Promise<void> {
    const [lo, hi] = orderPair(r.requester, r.target);
    await this.#query(
      `INSERT INTO buddy_relations (user_lo, user_hi, requester, state, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_lo, user_hi) DO UPDATE SET requester = excluded.requester, state = excluded.state`,
      [lo, hi, r.requester, r.state, r.createdAt],
    );
  }

  async deleteRelation(a: string, b: string): Promise<boolean> {
    const result = await this.#query(
      'DELETE FROM buddy_relations WHERE user_lo = $1 AND user_hi = $2',
      orderPair(a, b),
    );
    return result.rowCount === 1;
  }

  async relationsOf(user: string): Promise<BuddyRelation[]> {
    const { rows } = await this.#query<RelationRow>(
      'SELECT * FROM buddy_relations WHERE user_lo = $1 OR user_hi = $1 ORDER BY created_at',
      [user],
    );
    return rows.map(toRelation);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
