import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { DATABASE_FILE, openSqliteStore } from '../../src/store/sqlite-store.js';
import { account, storeContract } from './store-contract.js';

storeContract('SQLite', async () => openSqliteStore(null));

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
