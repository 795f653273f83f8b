import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUser, logOnDevice, TEST_PASSWORD, TestClient, withServer } from './helpers.js';

const ended = (c: TestClient) => c.waitForEvent((e) => e.event === 'session.ended');

test('logoff revoking the token ends the other connections logged on with it at once', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice');
    const second = await TestClient.connect(server.urls.ws);
    await second.ok('logon', { user: 'alice', token: alice.token });
    await alice.client.ok('logoff', { revokeToken: true });
    assert.equal((await ended(second)).reason, 'revoked');
    assert.equal(await second.closed, 4001);
    const third = await TestClient.connect(server.urls.ws);
    assert.equal(await third.failure('logon', { user: 'alice', token: alice.token }), 'AUTH_FAILED');
    assert.deepEqual(
      Object.keys(await alice.client.ok('ping')),
      ['now'],
      'the logged-off connection itself stays',
    );
    await alice.client.close();
    await third.close();
  });
});

test('a session ends when its token expires, not at the next logon', async () => {
  await withServer({ tokenTtlSeconds: 1 }, async (server) => {
    const alice = await createUser(server, 'alice');
    const t0 = performance.now();
    assert.equal((await ended(alice.client)).reason, 'expired');
    assert.equal(await alice.client.closed, 4001);
    assert.ok(performance.now() - t0 < 2500);
  });
});

test('account sessions lists devices; revoke DEVICE and revoke all cut them at once; others are told of logons', async () => {
  await withServer({}, async (server) => {
    const laptop = await createUser(server, 'alice', { device: 'laptop' });
    const phone = await logOnDevice(server, 'alice', { device: 'phone' });
    const tablet = await logOnDevice(server, 'alice', { device: 'tablet' });
    const told = laptop.client.events.filter((e) => e.event === 'device.logon').map((e) => e.device);
    assert.deepEqual(told.sort(), ['phone', 'tablet']);
    const { sessions } = (await laptop.client.ok('account.sessions')) as {
      sessions: Array<{ device: string; online: boolean; current: boolean }>;
    };
    assert.deepEqual(sessions.map((s) => [s.device, s.online, s.current]).sort(), [
      ['laptop', true, true],
      ['phone', true, false],
      ['tablet', true, false],
    ]);
    assert.ok(!JSON.stringify(sessions).includes(laptop.token), 'no token in the list');
    assert.deepEqual(await laptop.client.ok('account.revoke', { device: 'phone' }), { revoked: 1 });
    assert.equal(await phone.closed, 4001);
    assert.equal(await laptop.client.failure('account.revoke', { device: 'phone' }), 'NO_SESSION');
    assert.deepEqual(await laptop.client.ok('account.revoke', { all: true }), { revoked: 1 });
    assert.equal(await tablet.closed, 4001);
    assert.deepEqual(Object.keys(await laptop.client.ok('ping')), ['now']);
    await laptop.client.close();
  });
});

test('a password change needs the old password and revokes every other session', async () => {
  await withServer({}, async (server) => {
    const laptop = await createUser(server, 'alice', { device: 'laptop' });
    const phone = await logOnDevice(server, 'alice', { device: 'phone' });
    const newPassword = 'a much better password';
    assert.equal(
      await laptop.client.failure('account.password', { password: 'not the password', newPassword }),
      'AUTH_FAILED',
    );
    assert.deepEqual(await laptop.client.ok('account.password', { password: TEST_PASSWORD, newPassword }), {
      revoked: 1,
    });
    assert.equal((await ended(phone)).reason, 'password changed');
    const next = await TestClient.connect(server.urls.ws);
    assert.equal(await next.failure('logon', { user: 'alice', password: TEST_PASSWORD }), 'AUTH_FAILED');
    await next.ok('logon', { user: 'alice', password: newPassword });
    const again = await TestClient.connect(server.urls.ws);
    await again.ok('logon', { user: 'alice', token: laptop.token });
    for (const c of [laptop.client, next, again]) await c.close();
  });
});
