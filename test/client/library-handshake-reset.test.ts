import assert from 'node:assert/strict';
import { test } from 'node:test';
import NoiseSecretStream from '@hyperswarm/secret-stream';
import { awaitChosen, secureAndVerify } from '../../src/client/secure-channel.js';
import { socketPair } from './socket-pair.js';

test('a peer resetting between the verified handshake and the marker is a typed rejection, not a crash', async () => {
  let crashes = 0;
  const onCrash = () => {
    crashes++;
  };
  process.on('uncaughtException', onCrash);
  // The library's own timers are unref'd (they must not hold an app open): keep the test's loop alive.
  const keepAlive = setInterval(() => {}, 100);
  try {
    const [a, b] = await socketPair();
    const alice = NoiseSecretStream.keyPair();
    const bob = NoiseSecretStream.keyPair();
    const common = { timeoutMs: 5000, buddy: 'x' };
    const [, answering] = await Promise.all([
      secureAndVerify(a, { ...common, keyPair: alice, pinnedKey: bob.publicKey, isInitiator: true }),
      secureAndVerify(b, { ...common, keyPair: bob, pinnedKey: alice.publicKey, isInitiator: false }),
    ]);
    const waiting = awaitChosen(answering, 1000);
    a.resetAndDestroy(); // the initiator's process dies before it sends the marker
    // A reset the kernel reports ends it at once; one it holds back, at the marker timeout. Either way typed.
    await assert.rejects(waiting, (error: { code?: string }) =>
      ['NOT_CHOSEN', 'TIMEOUT'].includes(error.code ?? ''),
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(crashes, 0);
  } finally {
    clearInterval(keepAlive);
    process.off('uncaughtException', onCrash);
  }
});
