import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD, startTestServer, tempDir } from '../client/helpers.js';
import { runCli } from './run-cli.js';

test('account sessions, revoke --all, password, and buddy block/unblock/blocked from the CLI', async () => {
  const server = await startTestServer();
  try {
    const env = async () => ({
      BUDDYLINK_SERVER: server.urls.ws,
      BUDDYLINK_STUN: server.urls.stun,
      BUDDYLINK_HOME: await tempDir('buddylink-cli-'),
      BUDDYLINK_PASSWORD: PASSWORD,
    });
    const laptop = await env();
    const phone = await env();
    const bob = await env();
    assert.equal((await runCli(['account', 'create', 'alice', '--device', 'laptop'], laptop)).code, 0);
    assert.equal((await runCli(['account', 'create', 'bob'], bob)).code, 0);
    const login = await runCli(['login', 'alice', '--device', 'phone'], phone);
    assert.equal(login.code, 0, login.stderr);

    const listed = await runCli(['account', 'sessions', '--json'], laptop);
    assert.equal(listed.code, 0, listed.stderr);
    const sessions = listed.events[0]?.sessions as { device: string; current: boolean }[];
    assert.equal(sessions.length, 2, 'the laptop (its kept token) and the phone');
    assert.ok(sessions.some((s) => s.device === 'phone'));

    const revoked = await runCli(['account', 'revoke', '--all', '--json'], laptop);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.ok(Number(revoked.events[0]?.revoked) >= 1);
    const { BUDDYLINK_PASSWORD: _, ...phoneWithoutPassword } = phone;
    assert.notEqual((await runCli(['whoami'], phoneWithoutPassword)).code, 0, 'the phone must log in again');

    const changed = await runCli(['account', 'password', '--json'], {
      ...laptop,
      BUDDYLINK_NEW_PASSWORD: 'another good password',
    });
    assert.equal(changed.code, 0, changed.stderr);
    assert.notEqual((await runCli(['login', 'alice'], phone)).code, 0, 'the old password is gone');

    assert.equal((await runCli(['buddy', 'block', 'bob'], laptop)).code, 0);
    const blocked = await runCli(['buddy', 'blocked', '--json'], laptop);
    assert.deepEqual(blocked.events[0], { event: 'blocked', users: ['bob'] });
    assert.equal((await runCli(['buddy', 'unblock', 'bob'], laptop)).code, 0);
  } finally {
    await server.close();
  }
});
