import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUser, makeBuddies, withServer } from './helpers.js';

test('two buddies on one address are judged behind the same NAT', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    assert.deepEqual(await alice.client.ok('sameNat', { buddy: 'bob' }), { same: true });
  });
});
