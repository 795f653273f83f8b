import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resultSchemas } from '../../src/protocol/index.js';
import { createUser, TEST_PASSWORD, TestClient, withServer } from './helpers.js';

test('the logon and account.create results say where STUN answers: the real port when 0 picked one, and the bound host', async () => {
  await withServer({ host: '127.0.0.1', stunPort: 0 }, async (server) => {
    assert.notEqual(server.stun.port, 3478);
    const created = await TestClient.connect(server.urls.ws);
    const createResult = await created.ok('account.create', {
      user: 'alice',
      password: TEST_PASSWORD,
      publicKey: 'ab'.repeat(32),
    });
    assert.deepEqual(createResult.stun, [{ host: '127.0.0.1', port: server.stun.port }]);
    const device = await TestClient.connect(server.urls.ws);
    const logonResult = await device.ok('logon', { user: 'alice', password: TEST_PASSWORD });
    assert.deepEqual(logonResult.stun, [{ host: '127.0.0.1', port: server.stun.port }]);
    assert.ok(resultSchemas.logon.safeParse(logonResult).success, 'the client-side schema takes it');
    created.socket.close();
    device.socket.close();
  });
});

test('a server bound to the wildcard names no STUN host, only the port: it cannot know which of its names the client used', async () => {
  await withServer({ host: '0.0.0.0', stunPort: 0 }, async (server) => {
    const alice = await createUser(server, 'alice');
    const device = await TestClient.connect(server.urls.ws);
    const result = await device.ok('logon', { user: alice.user, password: TEST_PASSWORD });
    assert.deepEqual(result.stun, [{ port: server.stun.port }]);
    alice.client.socket.close();
    device.socket.close();
  });
});
