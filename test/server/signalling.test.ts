import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUser, makeBuddies, randomSessionId, withServer } from './helpers.js';

const localOffer = (session: string) => ({
  session,
  purpose: 'offer',
  scope: 'local',
  addresses: [{ host: '192.168.1.20', port: 40000 }],
  streamId: 7,
});

test('an offer reaches the buddy unchanged and the answer comes back in one round trip (S51, S73)', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice', { localAddress: '127.0.0.2' });
    const bob = await createUser(server, 'bob', { localAddress: '127.0.0.2' });
    await makeBuddies(alice, bob);
    const session = randomSessionId();
    const offer = localOffer(session);
    assert.deepEqual(await alice.client.ok('signal', { to: 'bob', body: offer }), { delivered: true });
    const atBob = await bob.client.waitForEvent((e) => e.event === 'signal');
    assert.deepEqual(atBob, { v: 1, event: 'signal', from: 'alice', fromDevice: alice.device, body: offer });
    const answer = {
      ...offer,
      purpose: 'answer',
      addresses: [{ host: '192.168.1.21', port: 40001 }],
      streamId: 9,
    };
    await bob.client.ok('signal', { to: 'alice', body: answer });
    const atAlice = await alice.client.waitForEvent((e) => e.event === 'signal');
    assert.deepEqual(atAlice.body, answer);
  });
});

test('local addresses are refused for a buddy behind another NAT, global ones pass', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice', { localAddress: '127.0.0.2' });
    const bob = await createUser(server, 'bob', { localAddress: '127.0.0.3' });
    await makeBuddies(alice, bob);
    const session = randomSessionId();
    assert.equal(await alice.client.failure('signal', { to: 'bob', body: localOffer(session) }), 'FORBIDDEN');
    const global = {
      ...localOffer(session),
      scope: 'global',
      addresses: [{ host: '203.0.113.7', port: 50000 }],
    };
    await alice.client.ok('signal', { to: 'bob', body: global });
    await bob.client.waitForEvent((e) => e.event === 'signal');
    await bob.client.settle();
    const signals = bob.client.events.filter((e) => e.event === 'signal');
    assert.equal(signals.length, 1);
    assert.ok(
      !bob.client.frames.some((f) => f.includes('192.168.1.20')),
      'the local address never reached bob',
    );
  });
});

test('with addresses revealed by the operator, local scope passes between different NATs', async () => {
  await withServer({ revealAddresses: true }, async (server) => {
    const alice = await createUser(server, 'alice', { localAddress: '127.0.0.2' });
    const bob = await createUser(server, 'bob', { localAddress: '127.0.0.3' });
    await makeBuddies(alice, bob);
    await alice.client.ok('signal', { to: 'bob', body: localOffer(randomSessionId()) });
    await bob.client.waitForEvent((e) => e.event === 'signal');
  });
});

test('signals reach only the addressed buddy, never a third user', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const carol = await createUser(server, 'carol');
    await makeBuddies(alice, bob);
    await makeBuddies(alice, carol);
    const session = randomSessionId();
    await alice.client.ok('signal', { to: 'bob', body: localOffer(session) });
    await bob.client.waitForEvent((e) => e.event === 'signal');
    // Carol, a buddy of alice but not of bob, cannot join or steer bob's session with alice.
    assert.equal(await carol.client.failure('signal', { to: 'bob', body: localOffer(session) }), 'NOT_BUDDY');
    await carol.client.settle();
    assert.equal(carol.client.events.filter((e) => e.event === 'signal').length, 0);
  });
});

test('a signal with a malformed body is refused before anyone sees it', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    const bad = { ...localOffer(randomSessionId()), addresses: [{ host: 'not-an-ip', port: 1 }] };
    assert.equal(await alice.client.failure('signal', { to: 'bob', body: bad }), 'BAD_REQUEST');
    const extra = { ...localOffer(randomSessionId()), secret: 'x' };
    assert.equal(await alice.client.failure('signal', { to: 'bob', body: extra }), 'BAD_REQUEST');
    await bob.client.settle();
    assert.equal(bob.client.events.filter((e) => e.event === 'signal').length, 0);
  });
});
