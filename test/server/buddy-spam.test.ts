import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { createUser, makeBuddies, type TestUser, withServer } from './helpers.js';

async function assertPairServed(server: RunningServer, suffix: string): Promise<void> {
  const a = await createUser(server, `fine${suffix}a`);
  const b = await createUser(server, `fine${suffix}b`);
  await makeBuddies(a, b);
  assert.deepEqual(await a.client.ok('sameNat', { buddy: b.user }), { same: true });
  await a.client.close();
  await b.client.close();
}

const requestsTo = (u: TestUser, from: string) =>
  u.client.events.filter((e) => e.event === 'buddy.request' && e.from === from).length;

test('a request/withdraw loop shows the target one request; requests per user are limited', async () => {
  await withServer({ buddyRequestsPerUser: 10 }, async (server) => {
    const victim = await createUser(server, 'victim');
    const spammer = await createUser(server, 'spammer');
    const codes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const reply = await spammer.client.request('buddy.request', { user: 'victim' });
      codes.push(reply.ok ? 'requested' : (reply.error?.code ?? ''));
      await spammer.client.request('buddy.remove', { user: 'victim' });
    }
    await victim.client.settle();
    assert.equal(requestsTo(victim, 'spammer'), 1, 'one buddy.request event, not twenty');
    assert.equal(codes.filter((c) => c === 'requested').length, 10);
    assert.ok(
      codes.slice(10).every((c) => c === 'RATE_LIMITED'),
      codes.join(),
    );
    await assertPairServed(server, '1');
  });
});

test('a declined request is not shown again during the cool-off', async () => {
  await withServer({}, async (server) => {
    const victim = await createUser(server, 'victim');
    const asker = await createUser(server, 'asker');
    await asker.client.ok('buddy.request', { user: 'victim' });
    await victim.client.waitForEvent((e) => e.event === 'buddy.request');
    await victim.client.ok('buddy.decline', { user: 'asker' });
    assert.deepEqual(await asker.client.ok('buddy.request', { user: 'victim' }), { state: 'requested' });
    await victim.client.settle();
    assert.equal(requestsTo(victim, 'asker'), 1);
    assert.deepEqual(await victim.client.ok('buddy.list'), { buddies: [] }, 'nothing pending either');
  });
});

test('enumeration-safe answers: an unknown user looks like an existing one unless switched off', async () => {
  await withServer({}, async (server) => {
    const u = await createUser(server, 'prober');
    await createUser(server, 'exists');
    assert.deepEqual(await u.client.ok('buddy.request', { user: 'exists' }), { state: 'requested' });
    assert.deepEqual(await u.client.ok('buddy.request', { user: 'nosuchuser' }), { state: 'requested' });
  });
  await withServer({ enumerationSafe: false }, async (server) => {
    const u = await createUser(server, 'prober');
    assert.equal(await u.client.failure('buddy.request', { user: 'nosuchuser' }), 'NOT_BUDDY');
  });
});

test('a blocked user sees nothing new: requests vanish, the blocker just looks offline', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice');
    const mallory = await createUser(server, 'mallory');
    await makeBuddies(alice, mallory);
    await mallory.client.settle();
    const before = mallory.client.events.length;
    await alice.client.ok('buddy.block', { user: 'mallory' });
    await mallory.client.waitForEvent(
      (e) => e.event === 'presence' && e.user === 'alice' && e.online === false,
    );
    const after = mallory.client.events.slice(before);
    assert.deepEqual(
      after.map((e) => e.event),
      ['presence'],
      'only an offline presence, no buddy.removed, nothing naming a block',
    );
    assert.deepEqual(await mallory.client.ok('buddy.request', { user: 'alice' }), { state: 'requested' });
    assert.equal(await mallory.client.failure('sameNat', { buddy: 'alice' }), 'NOT_BUDDY');
    await alice.client.settle();
    assert.equal(requestsTo(alice, 'mallory'), 0);
    assert.deepEqual(await alice.client.ok('buddy.blocked'), { users: ['mallory'] });
    assert.equal(await alice.client.failure('buddy.request', { user: 'mallory' }), 'FORBIDDEN');
    await alice.client.ok('buddy.unblock', { user: 'mallory' });
    assert.deepEqual(await alice.client.ok('buddy.blocked'), { users: [] });
    await mallory.client.ok('buddy.request', { user: 'alice' });
    await alice.client.waitForEvent((e) => e.event === 'buddy.request' && e.from === 'mallory');
    await assertPairServed(server, '4');
  });
});
