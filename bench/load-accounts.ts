import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashSessionToken } from '../src/server/tokens.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { KdfParams } from '../src/store/store.js';

/**
 * The population of the scale benchmarks (issue 6 rows 2 and 3): `users` accounts u0…u(n-1), each with
 * accepted buddies on a ring (u_i with u_{i±1}, …, u_{i±buddiesPerSide}), so that every logon announces
 * presence to online buddies and every judgement has a buddy to ask about.
 *
 * Accounts are written through the store module (src/store) before the server starts: creating 100,000
 * accounts through the protocol would cost 100,000 scrypt hashes at the server's interactive cost. The
 * store records the scrypt parameters per account, so these accounts carry a real scrypt hash with cheap
 * parameters (BENCH_KDF); the benchmark clients never use it anyway: they log on with a session token,
 * the path a client takes to reconnect, stored here as the server stores it (SHA-256 of the token).
 */

/** Cheap scrypt, allowed because the store keeps the parameters with each hash. Never for real users. */
export const BENCH_KDF: KdfParams = { N: 16, r: 1, p: 1, keyLength: 32 };
export const BENCH_PASSWORD = 'bench-password';
const TOKEN_TTL_MS = 365 * 24 * 3600 * 1000;
/** Bumped when the population's shape changes, so that a cached data directory is not reused wrongly. */
const POPULATION_VERSION = 1;
const COMPLETE_MARKER = 'population-complete.json';

export function benchUser(index: number): string {
  return `u${index}`;
}

/** Deterministic token of user `index`: the generator derives it without being told 100,000 secrets. */
export function benchToken(index: number): string {
  return createHash('sha256').update(`buddylink-bench-token:${index}`).digest('base64url');
}

/** The ring neighbours of `index` that are its accepted buddies. */
export function benchBuddies(index: number, users: number, buddiesPerSide: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= buddiesPerSide && d < users; d++) {
    out.push((index + d) % users, (index - d + users) % users);
  }
  return [...new Set(out)].filter((b) => b !== index);
}

/**
 * Source address of client `index`: loopback 127.b.c.d (Linux routes all of 127/8 to lo). Two
 * neighbouring users share an address, so that the judgement answers "same" for some pairs and
 * "different" for others; and one source address carries at most two connections, far below the ~28k
 * ephemeral ports one address has.
 */
export function benchSourceAddress(index: number): string {
  const pair = Math.floor(index / 2);
  return `127.${1 + Math.floor(pair / 62500)}.${Math.floor(pair / 250) % 250}.${1 + (pair % 250)}`;
}

export interface Population {
  readonly dataDir: string;
  readonly users: number;
  readonly buddiesPerSide: number;
  /** True when the directory was built now, false when a complete one was reused. */
  readonly created: boolean;
  readonly createMs: number;
}

/** Default place for populations: tmpfs, so that building one is not a benchmark of the disk. */
export function defaultPopulationRoot(): string {
  return existsSync('/dev/shm')
    ? '/dev/shm/buddylink-bench'
    : join(process.cwd(), 'bench', 'results', 'data');
}

async function writePopulation(dataDir: string, users: number, buddiesPerSide: number): Promise<void> {
  const store = openSqliteStore(dataDir);
  try {
    const now = Date.now();
    for (let i = 0; i < users; i++) {
      const salt = randomBytes(16);
      const passwordHash = scryptSync(BENCH_PASSWORD, salt, BENCH_KDF.keyLength, BENCH_KDF);
      await store.createAccount({
        user: benchUser(i),
        passwordHash,
        salt,
        kdf: BENCH_KDF,
        publicKey: createHash('sha256').update(`bench-key:${i}`).digest('hex'),
        createdAt: now,
      });
      await store.saveToken({
        tokenHash: hashSessionToken(benchToken(i)),
        user: benchUser(i),
        createdAt: now,
        expiresAt: now + TOKEN_TTL_MS,
      });
    }
    for (let i = 0; i < users; i++) {
      for (let d = 1; d <= buddiesPerSide && d < users; d++) {
        const j = (i + d) % users;
        if (j === i) continue;
        await store.putRelation({
          requester: benchUser(i),
          target: benchUser(j),
          state: 'accepted',
          createdAt: now,
        });
      }
    }
  } finally {
    await store.close();
  }
}

/** Builds (or reuses) a data directory holding the population; idempotent and safe to interrupt. */
export async function preparePopulation(
  root: string,
  users: number,
  buddiesPerSide: number,
): Promise<Population> {
  const dataDir = join(root, `pop-v${POPULATION_VERSION}-${users}u-${buddiesPerSide}b`);
  const started = Date.now();
  if (existsSync(join(dataDir, COMPLETE_MARKER))) {
    return { dataDir, users, buddiesPerSide, created: false, createMs: 0 };
  }
  // Built under a private name and renamed into place, so that two benchmarks (or two test files run in
  // parallel) asking for the same population never see a half-built one.
  const building = `${dataDir}.building-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(building, { recursive: true });
  try {
    await writePopulation(building, users, buddiesPerSide);
    writeFileSync(join(building, COMPLETE_MARKER), `${JSON.stringify({ users, buddiesPerSide })}\n`);
    renameSync(building, dataDir);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(join(dataDir, COMPLETE_MARKER))) throw error;
    return { dataDir, users, buddiesPerSide, created: false, createMs: 0 };
  }
  return { dataDir, users, buddiesPerSide, created: true, createMs: Date.now() - started };
}
