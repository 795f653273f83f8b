import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JudgeForbiddenError } from '../../src/client/index.js';
import { buddyPair, closeAll, nextConnection, startTestServer } from './helpers.js';

test("judge 'client' fails with a clear error when the operator does not reveal addresses", async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  try {
    const error = await alice.sameNat('bob', 'client').catch((e: unknown) => e);
    assert.ok(error instanceof JudgeForbiddenError);
    assert.equal(error.code, 'JUDGE_FORBIDDEN');
    assert.match(error.message, /reveal-addresses/);
    const viaConnect = await alice.connect('bob', { judge: 'client' }).catch((e: unknown) => e);
    assert.ok(viaConnect instanceof JudgeForbiddenError);
  } finally {
    await closeAll(alice, bob, server);
  }
});

test("judge 'client' compares the addresses itself when the operator allows it, and connects", async () => {
  const server = await startTestServer({ revealAddresses: true });
  const [alice, bob] = await buddyPair(server);
  try {
    assert.equal(await alice.sameNat('bob', 'client'), true);
    const incoming = nextConnection(bob);
    const connection = await alice.connect('bob', { judge: 'client' });
    assert.equal(connection.path, 'lan');
    (await incoming).destroy();
    connection.destroy();
  } finally {
    await closeAll(alice, bob, server);
  }
});
