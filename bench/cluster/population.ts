import { randomBytes, scryptSync } from 'node:crypto';
import pg from 'pg';
import { hashSessionToken } from '../../src/server/tokens.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { BENCH_KDF, benchToken } from '../load-accounts.js';

/** Users u0…u3 are the latency pairs; the held clients start after them. */
export const FIRST_HELD = 4;

/** Accounts u0…u(n-1) with tokens, and each u(2k) the accepted buddy of u(2k+1), written straight to SQL. */
export async function populate(url: string, users: number): Promise<void> {
  const client = new pg.Client(url);
  await client.connect();
  const salt = randomBytes(16);
  const hash = scryptSync('bench-password', salt, BENCH_KDF.keyLength, { N: BENCH_KDF.N, r: 1, p: 1 });
  const kdf = `scrypt:${BENCH_KDF.N}:${BENCH_KDF.r}:${BENCH_KDF.p}:${BENCH_KDF.keyLength}`;
  const names = Array.from({ length: users }, (_, i) => `u${i}`);
  await client.query(
    `INSERT INTO accounts (user_name, password_hash, salt, kdf, public_key, created_at)
     SELECT n, $2, $3, $4, $5, 0 FROM unnest($1::text[]) n ON CONFLICT DO NOTHING`,
    [names, hash, salt, kdf, 'ab'.repeat(32)],
  );
  await client.query(
    `INSERT INTO session_tokens (token_hash, user_name, created_at, expires_at)
     SELECT t, n, 0, 9999999999999 FROM unnest($1::text[], $2::text[]) AS x(t, n) ON CONFLICT DO NOTHING`,
    [names.map((_, i) => hashSessionToken(benchToken(i))), names],
  );
  const pairs = names
    .filter((_, i) => i % 2 === 0 && i + 1 < users)
    .map((n) => [n, `u${Number(n.slice(1)) + 1}`]);
  const lo = pairs.map(([a, b]) => ((a ?? '') < (b ?? '') ? a : b));
  const hi = pairs.map(([a, b]) => ((a ?? '') < (b ?? '') ? b : a));
  await client.query(
    `INSERT INTO buddy_relations (user_lo, user_hi, requester, state, created_at)
     SELECT l, h, l, 'accepted', 0 FROM unnest($1::text[], $2::text[]) AS x(l, h) ON CONFLICT DO NOTHING`,
    [lo, hi],
  );
  await client.end();
}

/** The same accounts and tokens in a SQLite data directory, for the single-node baseline. */
export async function populateSqlite(dir: string, users: number): Promise<void> {
  const store = openSqliteStore(dir);
  const salt = randomBytes(16);
  const passwordHash = scryptSync('bench-password', salt, BENCH_KDF.keyLength, {
    N: BENCH_KDF.N,
    r: 1,
    p: 1,
  });
  for (let i = 0; i < users; i++) {
    const user = `u${i}`;
    await store.createAccount({
      user,
      passwordHash,
      salt,
      kdf: BENCH_KDF,
      publicKey: 'ab'.repeat(32),
      createdAt: 0,
    });
    await store.saveToken({
      tokenHash: hashSessionToken(benchToken(i)),
      user,
      createdAt: 0,
      expiresAt: 9e12,
    });
    if (i % 2 === 1)
      await store.putRelation({ requester: `u${i - 1}`, target: user, state: 'accepted', createdAt: 0 });
  }
  await store.close();
}
