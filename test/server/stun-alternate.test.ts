import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from '../../src/server/index.js';

const base = { host: '127.0.0.1', port: 0, httpPort: 0, dataDir: null, logLevel: 'silent' } as const;

test('the server answers STUN on a second port by default, one above a fixed STUN port, and not when switched off', async () => {
  const chosen = await startServer({ ...base, stunPort: 0 });
  try {
    assert.ok(chosen.stunAlternate);
    assert.notEqual(chosen.stunAlternate.port, chosen.stun.port);
  } finally {
    await chosen.close();
  }
  const off = await startServer({ ...base, stunPort: 0, stunAlternate: false });
  try {
    assert.equal(off.stunAlternate, undefined);
  } finally {
    await off.close();
  }
  // A fixed port: the second one follows it. Pick a free pair through the system first.
  const probe = await startServer({ ...base, stunPort: 0, stunAlternate: false });
  const port = probe.stun.port;
  await probe.close();
  const fixed = await startServer({ ...base, stunPort: port }).catch((error: NodeJS.ErrnoException) => {
    // Only "port + 1 was taken meanwhile by another process" excuses the last check.
    if (!String(error.message).includes('EADDRINUSE')) throw error;
    return undefined;
  });
  if (!fixed) return;
  try {
    assert.equal(fixed.stunAlternate?.port, port + 1);
  } finally {
    await fixed.close();
  }
});
