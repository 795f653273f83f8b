import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { IDENTITY_FILE, SESSION_FILE } from '../../src/client/home.js';
import { Client, CredentialsMissingError } from '../../src/client/index.js';
import { ProtocolError } from '../../src/protocol/index.js';
import { clientOptions, closeAll, newAccount, startTestServer, tempDir } from './helpers.js';

test('the key pair is created on first use, kept 0600 in home, and the same on every logon', async () => {
  const server = await startTestServer();
  const alice = await newAccount(server, 'alice');
  try {
    for (const file of [IDENTITY_FILE, SESSION_FILE]) {
      const { mode } = await stat(join(alice.homeDir, file));
      assert.equal(mode & 0o777, 0o600, `${file} is private`);
    }
    const { mode } = await stat(alice.homeDir);
    assert.equal(mode & 0o077, 0, 'home is private');
    await alice.close();
    const again = await Client.logon({ ...(await clientOptions(server, 'alice')), home: alice.homeDir });
    assert.equal(again.publicKey, alice.publicKey, 'same key as at account creation');
    await again.close();
  } finally {
    await closeAll(alice, server);
  }
});

test('a fresh home without a password says how to log in; a wrong password is an authentication error', async () => {
  const server = await startTestServer();
  const alice = await newAccount(server, 'alice');
  try {
    const options = await clientOptions(server, 'alice', { home: await tempDir() });
    const missing = await Client.logon(options).catch((e: unknown) => e);
    assert.ok(missing instanceof CredentialsMissingError);
    assert.equal(missing.code, 'NO_CREDENTIALS');
    const wrong = await Client.logon({ ...options, password: 'not the password' }).catch((e: unknown) => e);
    assert.ok(wrong instanceof ProtocolError);
    assert.equal(wrong.code, 'AUTH_FAILED');
  } finally {
    await closeAll(alice, server);
  }
});

test('a logoff that revokes the token forgets it: the next logon needs the password again', async () => {
  const server = await startTestServer();
  const alice = await newAccount(server, 'alice');
  try {
    await alice.logoff({ revokeToken: true });
    const again = await Client.logon({
      ...(await clientOptions(server, 'alice')),
      home: alice.homeDir,
    }).catch((e: unknown) => e);
    assert.ok(again instanceof CredentialsMissingError);
  } finally {
    await closeAll(alice, server);
  }
});

test('a client whose server restarts is told, and logs on again by itself with its kept token', async () => {
  const dataDir = await tempDir('buddylink-data-');
  let server = await startTestServer({ dataDir });
  const port = server.ws.port;
  const alice = await newAccount(server, 'alice', { liveness: { reconnectBaseMs: 50, reconnectMaxMs: 200 } });
  try {
    const disconnected = new Promise((resolve) => alice.once('disconnect', resolve));
    const reconnected = new Promise<void>((resolve) => alice.once('reconnect', () => resolve()));
    await server.close();
    await disconnected;
    server = await startTestServer({ dataDir, port });
    await reconnected;
    const address = await alice.ownAddress();
    assert.equal(address.host, '127.0.0.1');
  } finally {
    await closeAll(alice, server);
  }
});
