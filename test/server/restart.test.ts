import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createUser, logOnDevice, makeBuddies, TestClient, withServer } from './helpers.js';

test('a restart with the same data directory keeps accounts, buddies and session tokens', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'buddylink-restart-'));
  try {
    let token = '';
    let bobKey = '';
    await withServer({ dataDir }, async (server) => {
      const alice = await createUser(server, 'alice');
      const bob = await createUser(server, 'bob');
      await makeBuddies(alice, bob);
      await alice.client.ok('buddy.request', { user: 'carol' }).catch(() => {});
      token = alice.token;
      bobKey = bob.publicKey;
    });
    await withServer({ dataDir }, async (server) => {
      const alice = await TestClient.connect(server.urls.ws);
      await alice.ok('logon', { user: 'alice', token });
      const bob = await logOnDevice(server, 'bob');
      const list = await alice.ok('buddy.list');
      assert.deepEqual(list, {
        buddies: [{ user: 'bob', state: 'accepted', online: true, publicKey: bobKey }],
      });
      assert.deepEqual(await alice.ok('sameNat', { buddy: 'bob' }), { same: true });
      await bob.close();
    });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
