import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { DATABASE_FILE, openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Account } from '../../src/store/store.js';

function account(user: string): Account {
  return {
    user,
    passwordHash: Buffer.alloc(32, 1),
    salt: Buffer.alloc(16, 2),
    kdf: { N: 16384, r: 8, p: 1, keyLength: 32 },
    publicKey: 'ab'.repeat(32),
    createdAt: 1000,
  };
}

test('an account is created once and read back whole', async () => {
  const store = openSqliteStore(null);
  assert.equal(await store.createAccount(account('alice')), true);
  assert.equal(await store.createAccount(account('alice')), false);
  assert.deepEqual(await store.findAccount('alice'), account('alice'));
  assert.equal(await store.findAccount('bob'), undefined);
  await store.close();
});

test('a pair holds one relation whichever side asked, and removal deletes it', async () => {
  const store = openSqliteStore(':memory:');
  await store.createAccount(account('alice'));
  await store.createAccount(account('bob'));
  await store.putRelation({ requester: 'bob', target: 'alice', state: 'pending', createdAt: 1 });
  assert.deepEqual(await store.findRelation('alice', 'bob'), {
    requester: 'bob',
    target: 'alice',
    state: 'pending',
    createdAt: 1,
  });
  await store.putRelation({ requester: 'bob', target: 'alice', state: 'accepted', createdAt: 2 });
  assert.equal((await store.relationsOf('alice')).length, 1);
  assert.equal((await store.findRelation('bob', 'alice'))?.state, 'accepted');
  assert.equal(await store.deleteRelation('alice', 'bob'), true);
  assert.equal(await store.deleteRelation('alice', 'bob'), false);
  assert.deepEqual(await store.relationsOf('bob'), []);
  await store.close();
});

test('tokens are found by hash until they expire and are swept', async () => {
  const store = openSqliteStore(null);
  await store.createAccount(account('alice'));
  await store.saveToken({ tokenHash: 'h1', user: 'alice', createdAt: 0, expiresAt: 100 });
  await store.saveToken({ tokenHash: 'h2', user: 'alice', createdAt: 0, expiresAt: 300 });
  assert.equal((await store.findToken('h1'))?.user, 'alice');
  assert.equal(await store.deleteExpiredTokens(200), 1);
  assert.equal(await store.findToken('h1'), undefined);
  await store.deleteToken('h2');
  assert.equal(await store.findToken('h2'), undefined);
  await store.close();
});

test('a database file is migrated once, in WAL mode, and keeps its data across opens', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'buddylink-store-'));
  try {
    const first = openSqliteStore(dir);
    await first.createAccount(account('alice'));
    await first.close();
    const second = openSqliteStore(dir);
    assert.equal((await second.findAccount('alice'))?.user, 'alice');
    await second.close();
    const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(
      versions,
      MIGRATIONS.map((m) => ({ version: m.version })),
    );
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
