import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUser, logOnDevice, makeBuddies, randomSessionId, TestClient, withServer } from './helpers.js';

function presenceOf(client: TestClient, user: string): boolean[] {
  return client.events
    .filter((e) => e.event === 'presence' && e.user === user)
    .map((e) => e.online as boolean);
}

test('buddies hear a logon and a logoff; a stranger hears neither', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const carol = await createUser(server, 'carol');
    await makeBuddies(alice, bob);
    await bob.client.ok('logoff');
    await alice.client.waitForEvent((e) => e.event === 'presence' && e.user === 'bob' && e.online === false);
    const again = await logOnDevice(server, 'bob');
    await alice.client.waitForEvent(
      (e) =>
        e.event === 'presence' && e.user === 'bob' && e.online === true && alice.client.events.indexOf(e) > 1,
    );
    assert.deepEqual(presenceOf(alice.client, 'bob'), [true, false, true]);
    await carol.client.settle();
    assert.deepEqual(presenceOf(carol.client, 'bob'), []);
    await again.close();
  });
});

test('a user with two devices stays online until the last device leaves', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob', { device: 'laptop' });
    await makeBuddies(alice, bob);
    const phone = await logOnDevice(server, 'bob', { device: 'phone' });
    await alice.client.settle();
    assert.deepEqual(presenceOf(alice.client, 'bob'), [true], 'the second device is no new presence');
    await bob.client.close();
    await alice.client.settle();
    assert.deepEqual(presenceOf(alice.client, 'bob'), [true], 'still online on the phone');
    assert.deepEqual(await alice.client.ok('sameNat', { buddy: 'bob' }), { same: true });
    await phone.close();
    await alice.client.waitForEvent((e) => e.event === 'presence' && e.user === 'bob' && e.online === false);
    assert.deepEqual(presenceOf(alice.client, 'bob'), [true, false]);
  });
});

test('two devices with one name get distinct names', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice', { device: 'laptop' });
    const second = await TestClient.connect(server.urls.ws);
    const result = await second.ok('logon', { user: 'alice', token: alice.token, device: 'laptop' });
    assert.equal(alice.device, 'laptop');
    assert.equal(result.device, 'laptop-2');
  });
});

test('signals go to the most recent listening device, else the most recent device, and answers return to the offering device', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice', { device: 'desktop', listen: true });
    const bob = await createUser(server, 'bob', { device: 'laptop' });
    await makeBuddies(alice, bob);
    const alicePhone = await logOnDevice(server, 'alice', { device: 'phone' });
    const bobPhone = await logOnDevice(server, 'bob', { device: 'phone' });
    const session = randomSessionId();
    const offer = {
      session,
      purpose: 'offer',
      scope: 'global',
      addresses: [{ host: '203.0.113.9', port: 5000 }],
    };
    // Bob has no listening device: his most recent (the phone) gets it. Alice's listening desktop, not her newer phone.
    await alicePhone.ok('signal', { to: 'bob', body: offer });
    const atBob = await bobPhone.waitForEvent((e) => e.event === 'signal');
    assert.deepEqual(atBob, { v: 1, event: 'signal', from: 'alice', fromDevice: 'phone', body: offer });
    const answer = { ...offer, purpose: 'answer', addresses: [{ host: '198.51.100.3', port: 6000 }] };
    await bobPhone.ok('signal', { to: 'alice', body: answer });
    const atAlice = await alicePhone.waitForEvent((e) => e.event === 'signal');
    assert.deepEqual(atAlice.body, answer, 'the answer returns to the device that offered');
    const fresh = { ...offer, session: randomSessionId() };
    await bobPhone.ok('signal', { to: 'alice', body: fresh });
    const atDesktop = await alice.client.waitForEvent((e) => e.event === 'signal');
    assert.deepEqual(atDesktop.body, fresh, 'a new offer goes to the listening device');
    await bob.client.settle();
    assert.equal(bob.client.events.filter((e) => e.event === 'signal').length, 0);
  });
});

test('a device whose peer stops answering pings is logged off and its buddies see it go offline', async () => {
  await withServer({ heartbeatSeconds: 0.1 }, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    // Pausing the socket stops reading, so bob's client never answers pings: a vanished peer.
    (bob.client.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    bob.client.socket.pong = () => {};
    await alice.client.waitForEvent((e) => e.event === 'presence' && e.user === 'bob' && e.online === false);
  });
});

test('a device that answers pings stays logged on across many spread heartbeat ticks', async () => {
  await withServer({ heartbeatSeconds: 0.1 }, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    // Ten intervals of 0.1 s, each cut into slots: every slot has pinged bob's socket several times.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { buddies } = (await alice.client.ok('buddy.list')) as {
      buddies: Array<{ user: string; online?: boolean }>;
    };
    assert.equal(buddies.find((b) => b.user === 'bob')?.online, true);
    assert.deepEqual(presenceOf(alice.client, 'bob').slice(-1), [true]);
  });
});
