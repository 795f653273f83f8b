import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUser, TEST_PASSWORD, TestClient, withServer } from './helpers.js';

test('a wrong password and an unknown user get the same AUTH_FAILED in about the same time', async () => {
  await withServer({}, async (server) => {
    await createUser(server, 'alice');
    const client = await TestClient.connect(server.urls.ws);
    const time = async (user: string) => {
      const t = performance.now();
      const reply = await client.request('logon', { user, password: 'wrong password' });
      return { reply, ms: performance.now() - t };
    };
    await time('alice');
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      const w = await time('alice');
      const u = await time('mallory');
      assert.equal(w.reply.error?.code, 'AUTH_FAILED');
      assert.deepEqual(u.reply.error, w.reply.error, 'one error for both');
      wrong.push(w.ms);
      unknown.push(u.ms);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] ?? 0;
    const [w, u] = [median(wrong), median(unknown)];
    // Both pay one scrypt: neither is more than 5x the other (a skipped hash would be ~100x faster).
    assert.ok(u * 5 > w && w * 5 > u, `${w} ms vs ${u} ms`);
  });
});

test('an existing user name gives USER_EXISTS', async () => {
  await withServer({}, async (server) => {
    await createUser(server, 'alice');
    const client = await TestClient.connect(server.urls.ws);
    const code = await client.failure('account.create', {
      user: 'alice',
      password: TEST_PASSWORD,
      publicKey: 'cd'.repeat(32),
    });
    assert.equal(code, 'USER_EXISTS');
  });
});

test('a session token logs on again without the password until it is revoked', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice');
    const again = await TestClient.connect(server.urls.ws);
    const result = await again.ok('logon', { user: 'alice', token: alice.token });
    assert.equal(result.token, alice.token);
    const stranger = await TestClient.connect(server.urls.ws);
    assert.equal(await stranger.failure('logon', { user: 'bob', token: alice.token }), 'AUTH_FAILED');
    await again.ok('logoff', { revokeToken: true });
    assert.equal(await stranger.failure('logon', { user: 'alice', token: alice.token }), 'AUTH_FAILED');
    assert.equal(await stranger.failure('logon', { user: 'alice', token: 'A'.repeat(43) }), 'AUTH_FAILED');
  });
});

test('an expired token is refused', async () => {
  await withServer({ tokenTtlSeconds: 1 }, async (server) => {
    const alice = await createUser(server, 'alice');
    await new Promise((r) => setTimeout(r, 1100));
    const again = await TestClient.connect(server.urls.ws);
    assert.equal(await again.failure('logon', { user: 'alice', token: alice.token }), 'AUTH_FAILED');
    await again.ok('logon', { user: 'alice', password: TEST_PASSWORD });
  });
});

test('a second logon on one connection is refused; after logoff it may log on again', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice');
    assert.equal(
      await alice.client.failure('logon', { user: 'alice', password: TEST_PASSWORD }),
      'BAD_REQUEST',
    );
    await alice.client.ok('logoff');
    await alice.client.ok('logon', { user: 'alice', password: TEST_PASSWORD });
  });
});
