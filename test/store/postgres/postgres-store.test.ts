import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { POSTGRES_MIGRATIONS } from '../../../src/store/postgres/migrations.js';
import { openPostgresStore } from '../../../src/store/postgres/postgres-store.js';
import type { Store } from '../../../src/store/store.js';
import { type TestServices, testServices } from '../services.js';
import { account, storeContract } from '../store-contract.js';

let services: TestServices | string = 'not started';
before(async () => {
  services = await testServices();
});
after(async () => {
  if (typeof services !== 'string') await services.stop();
});

/** Each contract test gets the database emptied, so that they do not see each other's rows. */
async function emptyStore(): Promise<Store | string> {
  if (typeof services === 'string') return services;
  const store = await openPostgresStore({ url: services.postgres });
  const client = new pg.Client(services.postgres);
  await client.connect();
  await client.query('TRUNCATE accounts, session_tokens, buddy_relations CASCADE');
  await client.end();
  return store;
}

storeContract('PostgreSQL', emptyStore);

test('PostgreSQL: nodes starting together migrate once and keep the data', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const url = services.postgres;
  const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore({ url })));
  await stores[0]?.createAccount(account('zoe'));
  for (const s of stores) await s.close();
  const again = await openPostgresStore({ url });
  assert.equal((await again.findAccount('zoe'))?.user, 'zoe');
  await again.close();
  const client = new pg.Client(url);
  await client.connect();
  const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version');
  await client.end();
  assert.deepEqual(
    rows,
    POSTGRES_MIGRATIONS.map((m) => ({ version: m.version })),
  );
});

test('PostgreSQL: an unreachable database fails the open with an error, not a hang', async () => {
  const started = Date.now();
  await assert.rejects(
    openPostgresStore({ url: 'postgres://postgres@127.0.0.1:1/none', connectTimeoutMs: 2000 }),
  );
  assert.ok(Date.now() - started < 10_000);
});
