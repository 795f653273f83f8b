import assert from 'node:assert/strict';
import { test } from 'node:test';
import NoiseSecretStream from '@hyperswarm/secret-stream';
import UDX from 'udx-native';
import { Client, NoPathError, WrongKeyError } from '../../src/client/index.js';
import { secureAndVerify } from '../../src/client/secure-channel.js';
import { buddyPair, closeAll, PASSWORD, startTestServer, tempDir } from './helpers.js';

/** Two UDX streams on loopback wired to each other: a transport with no identity of its own. */
function udxPair(): {
  a: import('udx-native').UdxStream;
  b: import('udx-native').UdxStream;
  close: () => Promise<void>;
} {
  const udx = new UDX();
  const sa = udx.createSocket();
  const sb = udx.createSocket();
  sa.bind(0, '127.0.0.1');
  sb.bind(0, '127.0.0.1');
  const a = udx.createStream(1);
  const b = udx.createStream(2);
  a.connect(sa, 2, sb.address()?.port ?? 0, '127.0.0.1');
  b.connect(sb, 1, sa.address()?.port ?? 0, '127.0.0.1');
  return {
    a,
    b,
    close: async () => {
      a.destroy();
      b.destroy();
      await Promise.all([sa.close(), sb.close()]);
    },
  };
}

test('a peer that completes the Noise handshake with another key is refused, whatever secret-stream says', async () => {
  const pinned = NoiseSecretStream.keyPair();
  const impostor = NoiseSecretStream.keyPair();
  const mine = NoiseSecretStream.keyPair();
  const { a, b, close } = udxPair();
  try {
    const responder = secureAndVerify(b, {
      keyPair: impostor,
      pinnedKey: mine.publicKey,
      buddy: 'alice',
      isInitiator: false,
      timeoutMs: 3000,
    }).catch((e: unknown) => e);
    const refused = await secureAndVerify(a, {
      keyPair: mine,
      pinnedKey: pinned.publicKey,
      buddy: 'bob',
      isInitiator: true,
      timeoutMs: 3000,
    }).then(
      () => assert.fail('accepted a peer with the wrong key'),
      (e: unknown) => e,
    );
    assert.ok(refused instanceof WrongKeyError);
    assert.equal(refused.code, 'WRONG_KEY');
    await responder;
  } finally {
    await close();
  }
});

test('a peer that proves the pinned key is accepted', async () => {
  const bob = NoiseSecretStream.keyPair();
  const alice = NoiseSecretStream.keyPair();
  const { a, b, close } = udxPair();
  try {
    const [ours, theirs] = await Promise.all([
      secureAndVerify(a, {
        keyPair: alice,
        pinnedKey: bob.publicKey,
        buddy: 'bob',
        isInitiator: true,
        timeoutMs: 3000,
      }),
      secureAndVerify(b, {
        keyPair: bob,
        pinnedKey: alice.publicKey,
        buddy: 'alice',
        isInitiator: false,
        timeoutMs: 3000,
      }),
    ]);
    assert.ok(ours.remotePublicKey?.equals(bob.publicKey));
    assert.ok(theirs.remotePublicKey?.equals(alice.publicKey));
    ours.destroy();
    theirs.destroy();
  } finally {
    await close();
  }
});

test('an impostor holding another key is refused on the LAN, then on the internet, then on the relay', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  await bob.close();
  // The impostor knows bob's password but not bob's private key: its home holds a fresh key pair.
  const impostor = await Client.logon({
    server: server.urls.ws,
    stun: server.urls.stun,
    user: 'bob',
    password: PASSWORD,
    home: await tempDir(),
    listen: true,
  });
  let impostorGotConnection = false;
  impostor.on('connection', () => {
    impostorGotConnection = true;
  });
  try {
    assert.notEqual(impostor.publicKey, bob.publicKey);
    const error = await alice.connect('bob').then(
      () => assert.fail('connected to an impostor'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof NoPathError);
    // The internet exchange overlaps the LAN try, so the two may finish in either order; the relay is last.
    assert.deepEqual(error.attempts.map((a) => a.path).sort(), ['internet', 'lan', 'relay']);
    assert.equal(error.attempts.at(-1)?.path, 'relay');
    for (const attempt of error.attempts) {
      assert.equal(attempt.ok, false);
      assert.match(attempt.reason ?? '', /WRONG_KEY/);
    }
    assert.equal(impostorGotConnection, false);
  } finally {
    await closeAll(alice, impostor, server);
  }
});
