import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { createUser, makeBuddies, randomSessionId, type TestUser, withServer } from './helpers.js';

/** Every way of asking about, or reaching, a user; each must be refused the same way for a non-buddy. */
async function probeAll(asker: TestUser, target: string): Promise<string[]> {
  const session = randomSessionId();
  const body = {
    session,
    purpose: 'offer',
    scope: 'global',
    addresses: [{ host: '203.0.113.5', port: 4000 }],
  };
  return [
    await asker.client.failure('sameNat', { buddy: target }),
    await asker.client.failure('registeredAddress', { buddy: target }),
    await asker.client.failure('signal', { to: target, body }),
    await asker.client.failure('relay.open', { buddy: target, session }),
  ];
}

/** Nothing the asker received names the target's address, port or key. */
function assertLearnedNothing(asker: TestUser, target: TestUser, targetAddress: string): void {
  const port = String(
    (target.client.socket as unknown as { _socket: { localPort: number } })._socket.localPort,
  );
  for (const frame of asker.client.frames) {
    assert.ok(!frame.includes(targetAddress), `frame reveals the address: ${frame}`);
    assert.ok(!frame.includes(target.publicKey), `frame reveals the key: ${frame}`);
    assert.ok(!new RegExp(`\\b${port}\\b`).test(frame), `frame reveals the port: ${frame}`);
  }
}

async function threeUsers(server: RunningServer) {
  const alice = await createUser(server, 'alice', { localAddress: '127.0.0.21' });
  const bob = await createUser(server, 'bob', { localAddress: '127.0.0.22' });
  const carol = await createUser(server, 'carol', { localAddress: '127.0.0.23' });
  return { alice, bob, carol };
}

const NOT_BUDDY_ALL = ['NOT_BUDDY', 'NOT_BUDDY', 'NOT_BUDDY', 'NOT_BUDDY'];

test('a non-buddy gets NOT_BUDDY for every question and learns nothing, even with addresses revealed', async () => {
  await withServer({ revealAddresses: true }, async (server) => {
    const { bob, carol } = await threeUsers(server);
    assert.deepEqual(await probeAll(carol, 'bob'), NOT_BUDDY_ALL);
    assert.deepEqual(await probeAll(carol, 'nobody'), NOT_BUDDY_ALL);
    await carol.client.settle();
    await bob.client.settle();
    assertLearnedNothing(carol, bob, '127.0.0.22');
    assert.equal(bob.client.events.length, 0, 'bob hears nothing of carol');
  });
});

test('a pending request reveals only the requester name, and neither side may ask anything yet', async () => {
  await withServer({ revealAddresses: true }, async (server) => {
    const { alice, bob } = await threeUsers(server);
    assert.deepEqual(await alice.client.ok('buddy.request', { user: 'bob' }), { state: 'requested' });
    const request = await bob.client.waitForEvent((e) => e.event === 'buddy.request');
    assert.deepEqual(request, { v: 1, event: 'buddy.request', from: 'alice' });
    assert.deepEqual(await probeAll(alice, 'bob'), NOT_BUDDY_ALL);
    assert.deepEqual(await probeAll(bob, 'alice'), NOT_BUDDY_ALL);
    const list = await bob.client.ok('buddy.list');
    assert.deepEqual(list, { buddies: [{ user: 'alice', state: 'incoming' }] });
    await alice.client.settle();
    await bob.client.settle();
    assertLearnedNothing(alice, bob, '127.0.0.22');
    assertLearnedNothing(bob, alice, '127.0.0.21');
  });
});

test('a removed buddy is refused everything at once and learns nothing more', async () => {
  await withServer({ revealAddresses: true }, async (server) => {
    const { alice, bob } = await threeUsers(server);
    await makeBuddies(alice, bob);
    assert.deepEqual(await alice.client.ok('sameNat', { buddy: 'bob' }), { same: false });
    await bob.client.ok('buddy.remove', { user: 'alice' });
    const removed = await alice.client.waitForEvent((e) => e.event === 'buddy.removed');
    assert.deepEqual(removed, { v: 1, event: 'buddy.removed', user: 'bob' });
    const framesBefore = alice.client.frames.length;
    assert.deepEqual(await probeAll(alice, 'bob'), NOT_BUDDY_ALL);
    await bob.client.close();
    await alice.client.settle();
    for (const frame of alice.client.frames.slice(framesBefore)) {
      assert.ok(!frame.includes('127.0.0.22'), frame);
      assert.ok(!frame.includes('"presence"'), `a removed buddy hears no presence: ${frame}`);
    }
  });
});

test('an accepted buddy who is offline gives BUDDY_OFFLINE', async () => {
  await withServer({ revealAddresses: true }, async (server) => {
    const { alice, bob } = await threeUsers(server);
    await makeBuddies(alice, bob);
    await bob.client.close();
    await alice.client.waitForEvent((e) => e.event === 'presence' && e.online === false);
    assert.equal(await alice.client.failure('sameNat', { buddy: 'bob' }), 'BUDDY_OFFLINE');
    assert.equal(await alice.client.failure('registeredAddress', { buddy: 'bob' }), 'BUDDY_OFFLINE');
  });
});

test('a request to someone who already asked you makes you buddies, and both learn the keys', async () => {
  await withServer({}, async (server) => {
    const { alice, bob } = await threeUsers(server);
    await alice.client.ok('buddy.request', { user: 'bob' });
    assert.deepEqual(await bob.client.ok('buddy.request', { user: 'alice' }), { state: 'accepted' });
    const toAlice = await alice.client.waitForEvent((e) => e.event === 'buddy.accepted');
    assert.deepEqual(toAlice, { v: 1, event: 'buddy.accepted', user: 'bob', publicKey: bob.publicKey });
    const toBob = await bob.client.waitForEvent((e) => e.event === 'buddy.accepted');
    assert.deepEqual(toBob, { v: 1, event: 'buddy.accepted', user: 'alice', publicKey: alice.publicKey });
    const list = await alice.client.ok('buddy.list');
    assert.deepEqual(list, {
      buddies: [{ user: 'bob', state: 'accepted', online: true, publicKey: bob.publicKey }],
    });
  });
});

test('a declined request leaves no relation, and accept without a request is NO_REQUEST', async () => {
  await withServer({}, async (server) => {
    const { alice, bob } = await threeUsers(server);
    assert.equal(await bob.client.failure('buddy.accept', { user: 'alice' }), 'NO_REQUEST');
    await alice.client.ok('buddy.request', { user: 'bob' });
    assert.equal(await alice.client.failure('buddy.accept', { user: 'bob' }), 'NO_REQUEST');
    await bob.client.ok('buddy.decline', { user: 'alice' });
    assert.deepEqual(await alice.client.ok('buddy.list'), { buddies: [] });
    assert.deepEqual(await bob.client.ok('buddy.list'), { buddies: [] });
    assert.equal(await alice.client.failure('sameNat', { buddy: 'bob' }), 'NOT_BUDDY');
  });
});

test('requests before logon get NOT_LOGGED_ON', async () => {
  await withServer({}, async (server) => {
    const { alice } = await threeUsers(server);
    await alice.client.ok('logoff');
    assert.equal(await alice.client.failure('sameNat', { buddy: 'bob' }), 'NOT_LOGGED_ON');
    assert.equal(await alice.client.failure('buddy.list'), 'NOT_LOGGED_ON');
  });
});
