import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RelationCachingStore } from '../../src/store/relation-cache.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { BuddyRelation, Store } from '../../src/store/store.js';

const accepted: BuddyRelation = { requester: 'alice', target: 'bob', state: 'accepted', createdAt: 1 };

/** An in-memory SQLite store holding the accounts the tests relate (relations need both accounts). */
async function sqliteWithUsers(): Promise<Store> {
  const store = openSqliteStore(null);
  for (const user of ['alice', 'bob', 'carol', 'b1', 'b2', 'b3'])
    await store.createAccount({
      user,
      passwordHash: Buffer.alloc(32, 1),
      salt: Buffer.alloc(16, 2),
      kdf: { N: 16384, r: 8, p: 1, keyLength: 32 },
      publicKey: 'ab'.repeat(32),
      createdAt: 1000,
    });
  return store;
}

/** A store that counts relation reads, so a test can tell a cache hit from a database read. */
async function countingStore() {
  const inner = await sqliteWithUsers();
  let reads = 0;
  const findRelation = inner.findRelation.bind(inner);
  inner.findRelation = (a, b) => {
    reads++;
    return findRelation(a, b);
  };
  return { inner, reads: () => reads };
}

test('an accepted relation is read from the database once, then from memory, in either order', async () => {
  const { inner, reads } = await countingStore();
  await inner.putRelation(accepted);
  const store = new RelationCachingStore(inner);
  assert.equal((await store.findRelation('alice', 'bob'))?.state, 'accepted');
  assert.equal((await store.findRelation('bob', 'alice'))?.state, 'accepted');
  assert.equal(reads(), 1);
  await store.close();
});

test('a pending relation and no relation are not cached: a later accept elsewhere is seen', async () => {
  const { inner, reads } = await countingStore();
  const store = new RelationCachingStore(inner);
  await store.putRelation({ ...accepted, state: 'pending' });
  assert.equal((await store.findRelation('alice', 'bob'))?.state, 'pending');
  assert.equal((await store.findRelation('alice', 'carol'))?.state, undefined);
  await inner.putRelation({ requester: 'alice', target: 'carol', state: 'accepted', createdAt: 2 });
  assert.equal((await store.findRelation('alice', 'carol'))?.state, 'accepted');
  assert.equal(reads(), 3);
  await store.close();
});

test('a removed buddy is refused at once, also after an accept and a re-request through the cache', async () => {
  const store = new RelationCachingStore(await sqliteWithUsers());
  await store.putRelation(accepted);
  assert.equal((await store.findRelation('bob', 'alice'))?.state, 'accepted');
  assert.equal(await store.deleteRelation('bob', 'alice'), true);
  assert.equal(await store.findRelation('alice', 'bob'), undefined);
  await store.putRelation({ ...accepted, state: 'pending' });
  assert.equal((await store.findRelation('alice', 'bob'))?.state, 'pending');
  await store.close();
});

test('a read under way while the pair is deleted does not put the old relation back in memory', async () => {
  const inner = await sqliteWithUsers();
  await inner.putRelation(accepted);
  const store = new RelationCachingStore(inner);
  // The read goes to the database (nothing cached yet); the delete runs before the read resumes.
  const reading = store.findRelation('alice', 'bob');
  const deleting = store.deleteRelation('alice', 'bob');
  assert.equal((await reading)?.state, 'accepted', 'the read saw the store before the delete');
  assert.equal(await deleting, true);
  assert.equal(await store.findRelation('alice', 'bob'), undefined);
  await store.close();
});

test('the cache starts over when full and still answers from the database', async () => {
  const store = new RelationCachingStore(await sqliteWithUsers(), 2);
  for (const target of ['b1', 'b2', 'b3']) await store.putRelation({ ...accepted, target });
  for (const target of ['b1', 'b2', 'b3'])
    assert.equal((await store.findRelation('alice', target))?.state, 'accepted');
  await store.close();
});
