import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '../../src/client/index.js';
import { clientOptions, closeAll, newAccount, PASSWORD, startTestServer } from './helpers.js';

test('other devices hear of a logon; a revoked device hears why and does not log itself on again', async () => {
  const server = await startTestServer();
  const laptop = await newAccount(server, 'alice', { device: 'laptop' });
  try {
    const told = new Promise((r) => laptop.once('device.logon', r));
    const options = await clientOptions(server, 'alice', { device: 'tablet' });
    const tablet = await Client.logon({ ...options, password: PASSWORD });
    assert.deepEqual(await told, { device: 'tablet' });
    const ended = new Promise((r) => tablet.once('session.ended', r));
    const gone = new Promise((r) => tablet.once('disconnect', r));
    let reconnected = false;
    tablet.once('reconnect', () => {
      reconnected = true;
    });
    assert.equal(await laptop.revokeSessions({ device: 'tablet' }), 1);
    assert.deepEqual(await ended, { reason: 'revoked' });
    assert.deepEqual(await gone, { reason: 'session revoked' });
    await new Promise((r) => setTimeout(r, 1500)); // the first reconnect would come after 500 ms
    assert.equal(reconnected, false, 'no automatic logon with the password it holds');
    assert.deepEqual(
      (await laptop.sessions()).map((s) => s.device),
      ['laptop'],
    );
    await tablet.close();
  } finally {
    await closeAll(laptop, server);
  }
});
