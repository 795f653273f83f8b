import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DATABASE_FILE } from '../../src/store/sqlite-store.js';
import { createUser, withServer } from './helpers.js';

test('the data directory is created 0700 and the database 0600 (WAL files too), whatever the umask', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'buddylink-data-'));
  const old = process.umask(0);
  try {
    const dataDir = join(parent, 'data');
    await withServer({ dataDir }, async (server) => {
      const u = await createUser(server, 'alice');
      await u.client.close();
      assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
      for (const file of await readdir(dataDir))
        assert.equal((await stat(join(dataDir, file))).mode & 0o777, 0o600, `${file} is private`);
    });
  } finally {
    process.umask(old);
    await rm(parent, { recursive: true, force: true });
  }
});

test('a database file left 0644 by an older server is tightened to 0600', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'buddylink-data-'));
  try {
    await writeFile(join(dataDir, DATABASE_FILE), '');
    await chmod(join(dataDir, DATABASE_FILE), 0o644);
    await withServer({ dataDir }, async () => {
      assert.equal((await stat(join(dataDir, DATABASE_FILE))).mode & 0o777, 0o600);
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
