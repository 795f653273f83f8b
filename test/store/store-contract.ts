import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Account, Store } from '../../src/store/store.js';

export function account(user: string): Account {
  return {
    user,
    passwordHash: Buffer.alloc(32, 1),
    salt: Buffer.alloc(16, 2),
    kdf: { N: 16384, r: 8, p: 1, keyLength: 32 },
    publicKey: 'ab'.repeat(32),
    createdAt: 1000,
  };
}

/**
 * What every Store must do, run against each implementation (SQLite, PostgreSQL). `open` gives an
 * empty store, or a string saying why there is none (the tests then skip with it).
 */
export function storeContract(name: string, open: () => Promise<Store | string>): void {
  const withStore = (title: string, body: (store: Store) => Promise<void>) =>
    test(`${name}: ${title}`, async (t) => {
      const store = await open();
      if (typeof store === 'string') return t.skip(store);
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });

  withStore('an account is created once and read back whole', async (store) => {
    assert.equal(await store.createAccount(account('alice')), true);
    assert.equal(await store.createAccount(account('alice')), false);
    assert.deepEqual(await store.findAccount('alice'), account('alice'));
    assert.equal(await store.findAccount('bob'), undefined);
  });

  withStore('a block list holds each blocked name once, and a token keeps its device', async (store) => {
    await store.createAccount(account('alice'));
    await store.putBlock('alice', 'mallory', 1);
    await store.putBlock('alice', 'mallory', 2);
    await store.putBlock('alice', 'no-such-account', 3);
    assert.equal(await store.isBlocked('alice', 'mallory'), true);
    assert.equal(await store.isBlocked('mallory', 'alice'), false);
    assert.deepEqual(await store.blocksOf('alice'), ['mallory', 'no-such-account']);
    assert.equal(await store.deleteBlock('alice', 'mallory'), true);
    assert.equal(await store.deleteBlock('alice', 'mallory'), false);
    await store.saveToken({ tokenHash: 't1', user: 'alice', createdAt: 1, expiresAt: 9, device: 'laptop' });
    await store.saveToken({ tokenHash: 't2', user: 'alice', createdAt: 2, expiresAt: 9 });
    const tokens = await store.tokensOf('alice');
    assert.deepEqual(
      tokens.map((t) => [t.tokenHash, t.device]),
      [
        ['t1', 'laptop'],
        ['t2', undefined],
      ],
    );
    const changed = { passwordHash: Buffer.alloc(32, 9), salt: Buffer.alloc(16, 8), kdf: account('x').kdf };
    assert.equal(await store.updatePassword('alice', changed), true);
    assert.equal(await store.updatePassword('nobody', changed), false);
    assert.deepEqual((await store.findAccount('alice'))?.passwordHash, changed.passwordHash);
  });

  withStore('a pair holds one relation whichever side asked, and removal deletes it', async (store) => {
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
  });

  withStore('relations of a user come back in creation order, from either side', async (store) => {
    for (const u of ['carol', 'alice', 'bob', 'dave']) await store.createAccount(account(u));
    await store.putRelation({ requester: 'carol', target: 'dave', state: 'accepted', createdAt: 5 });
    await store.putRelation({ requester: 'alice', target: 'carol', state: 'pending', createdAt: 7 });
    await store.putRelation({ requester: 'carol', target: 'bob', state: 'accepted', createdAt: 6 });
    const others = (await store.relationsOf('carol')).map((r) =>
      r.requester === 'carol' ? r.target : r.requester,
    );
    assert.deepEqual(others, ['dave', 'bob', 'alice']);
  });

  withStore('tokens are found by hash until they expire and are swept', async (store) => {
    await store.createAccount(account('alice'));
    await store.saveToken({ tokenHash: 'h1', user: 'alice', createdAt: 0, expiresAt: 100 });
    await store.saveToken({ tokenHash: 'h2', user: 'alice', createdAt: 0, expiresAt: 300 });
    assert.equal((await store.findToken('h1'))?.user, 'alice');
    assert.deepEqual(await store.findToken('h2'), {
      tokenHash: 'h2',
      user: 'alice',
      createdAt: 0,
      expiresAt: 300,
    });
    assert.equal(await store.deleteExpiredTokens(200), 1);
    assert.equal(await store.findToken('h1'), undefined);
    await store.deleteToken('h2');
    assert.equal(await store.findToken('h2'), undefined);
  });

  withStore('times past 2^31 milliseconds survive as numbers', async (store) => {
    const now = 1_800_000_000_000;
    await store.createAccount({ ...account('alice'), createdAt: now });
    await store.saveToken({ tokenHash: 'h', user: 'alice', createdAt: now, expiresAt: now + 1 });
    assert.equal((await store.findAccount('alice'))?.createdAt, now);
    assert.equal((await store.findToken('h'))?.expiresAt, now + 1);
  });
}
