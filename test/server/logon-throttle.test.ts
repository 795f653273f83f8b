import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUser, TEST_PASSWORD, TestClient, withServer } from './helpers.js';

const GUESSER = '127.0.0.2';

test('password guessing against one account backs off; the user still logs on by token, others normally', async () => {
  await withServer({ logonFailuresPerAccount: 3, logonBackoffSeconds: 5 }, async (server) => {
    const victim = await createUser(server, 'victim');
    const bystander = await createUser(server, 'bystander');
    await bystander.client.close();
    const guesser = await TestClient.connect(server.urls.ws, { localAddress: GUESSER });
    const outcomes: string[] = [];
    const deadline = performance.now() + 2000;
    for (let i = 0; performance.now() < deadline && i < 20; i++)
      outcomes.push(await guesser.failure('logon', { user: 'victim', password: `guess number ${i}` }));
    const tried = outcomes.filter((c) => c === 'AUTH_FAILED').length;
    assert.equal(tried, 3, `three guesses were checked, then back-off (${outcomes.length} sent)`);
    assert.ok(outcomes.slice(3).every((c) => c === 'RATE_LIMITED'));
    // The right password is refused too while the account backs off: the guesser cannot tell.
    assert.equal(await guesser.failure('logon', { user: 'victim', password: TEST_PASSWORD }), 'RATE_LIMITED');
    // The victim's own device logs on with its token; another user logs on by password, fast.
    const device = await TestClient.connect(server.urls.ws);
    await device.ok('logon', { user: 'victim', token: victim.token });
    const other = await TestClient.connect(server.urls.ws);
    const t0 = performance.now();
    await other.ok('logon', { user: 'bystander', password: TEST_PASSWORD });
    assert.ok(performance.now() - t0 < 2000);
    for (const c of [victim.client, guesser, device, other]) await c.close();
  });
});

test('guessing many accounts from one source backs that source off; other sources are unaffected', async () => {
  await withServer({ logonFailuresPerSource: 4, logonBackoffSeconds: 5 }, async (server) => {
    const real = await createUser(server, 'realuser');
    await real.client.close();
    const guesser = await TestClient.connect(server.urls.ws, { localAddress: GUESSER });
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++)
      outcomes.push(await guesser.failure('logon', { user: `someone${i}`, password: 'not the password' }));
    assert.deepEqual(outcomes.slice(0, 4), ['AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED']);
    assert.ok(
      outcomes.slice(4).every((c) => c === 'RATE_LIMITED'),
      outcomes.join(),
    );
    const metrics = await (await fetch(`${server.urls.http}/metrics`)).text();
    assert.match(metrics, /buddylink_limited_total\{limit="logon-backoff"\} 6/);
    const elsewhere = await TestClient.connect(server.urls.ws, { localAddress: '127.0.0.3' });
    await elsewhere.ok('logon', { user: 'realuser', password: TEST_PASSWORD });
    await guesser.close();
    await elsewhere.close();
  });
});

test('account creation is throttled per source; closed registration refuses it', async () => {
  await withServer({ accountsPerSource: 3 }, async (server) => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await createUser(server, `spam${i}`, { localAddress: GUESSER }));
    await assert.rejects(createUser(server, 'spam3', { localAddress: GUESSER }), /RATE_LIMITED/);
    const fine = await createUser(server, 'fromelsewhere', { localAddress: '127.0.0.3' });
    for (const u of [...made, fine]) await u.client.close();
  });
  await withServer({ registration: false }, async (server) => {
    await assert.rejects(createUser(server, 'nobody'), /FORBIDDEN/);
  });
});
