import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ControlChannel } from '../../src/client/control.js';
import { authenticate } from '../../src/client/credentials.js';
import { Client, Home, NoPathError } from '../../src/client/index.js';
import { RelayStream } from '../../src/client/relay-stream.js';
import { awaitChosen, secureAndVerify } from '../../src/client/secure-channel.js';
import { SessionHost } from '../../src/client/session/host.js';
import { Session } from '../../src/client/session/session.js';
import { buddyPair, clientOptions, closeAll, startTestServer } from './helpers.js';

const MARKER = Buffer.from('PLAINTEXT-MARKER-7f3a9c-the-relay-must-never-see-this');

test('the relay forwards only ciphertext: a marker sent through it never crosses the relay in clear', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  const bobHome = new Home(bob.homeDir);
  await bob.close();
  // Bob's side is a relay peer this test controls: it logs on as bob with bob's kept token and key,
  // joins the relay itself and records every byte the server forwards before decrypting them.
  const control = await ControlChannel.open(server.urls.ws, 5000);
  await authenticate(control, server.urls.ws, bobHome, {
    user: 'bob',
    useKeptToken: true,
    device: 'tap',
    listen: true,
  });
  const keyPair = await bobHome.keyPair();
  const wire: Buffer[] = [];
  const plaintext = new Promise<Buffer>((resolve, reject) => {
    control.on('event', (event) => {
      if (event.event !== 'signal' || event.body.scope !== 'relay' || event.body.purpose !== 'offer') return;
      void (async () => {
        const ticket = await control.request('relay.open', { buddy: 'alice', session: event.body.session });
        const relay = await RelayStream.open(new URL(ticket.path, server.urls.ws).toString(), 5000);
        // A copy, taken before the Noise layer sees the chunk: it decrypts in place.
        relay.on('data', (chunk: Buffer) => wire.push(Buffer.from(chunk)));
        const secret = await secureAndVerify(relay, {
          keyPair,
          pinnedKey: Buffer.from(alice.publicKey, 'hex'),
          buddy: 'alice',
          isInitiator: false,
          timeoutMs: 5000,
        });
        const held = (await awaitChosen(secret, 5000)).take();
        // The connection is a session: its frames are read by a session of ours.
        const session = await new SessionHost<Session>(5000).accept(
          {
            carrier: { path: 'relay', stream: secret, held: held.chunks },
            initiatorKey: Buffer.from(alice.publicKey, 'hex'),
            responderKey: keyPair.publicKey,
            path: 'relay',
          },
          (nonce) => new Session({ initiator: false, nonce, started: performance.now() }),
        );
        assert.ok(session);
        const received: Buffer[] = [];
        session.on('data', (chunk: Buffer) => received.push(chunk));
        await new Promise((done) => session.once('end', done));
        session.end();
        resolve(Buffer.concat(received));
      })().catch(reject);
    });
  });
  try {
    const connection = await alice.connect('bob', { path: 'relay' });
    assert.equal(connection.path, 'relay');
    connection.end(Buffer.concat([MARKER, MARKER, MARKER]));
    const clear = await plaintext;
    assert.ok(clear.includes(MARKER), 'the peer decrypts the marker');
    const onTheWire = Buffer.concat(wire);
    assert.ok(onTheWire.length > MARKER.length * 3, 'the relay carried the bytes');
    assert.ok(!onTheWire.includes(MARKER), 'the relay never forwarded the marker in clear');
    assert.ok(!onTheWire.includes(MARKER.subarray(0, 16)), 'not even a part of it');
  } finally {
    control.close();
    await closeAll(alice, server);
  }
});

test('with the relay switched off by the operator, the relay attempt says so and no path is left', async () => {
  const server = await startTestServer({ relay: false });
  const [alice, bob] = await buddyPair(server);
  try {
    const error = await alice.connect('bob', { path: 'relay' }).then(
      () => assert.fail('connected through a relay that is off'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof NoPathError);
    assert.equal(error.code, 'NO_PATH');
    assert.equal(error.attempts[0]?.path, 'relay');
    assert.match(error.attempts[0]?.reason ?? '', /switched off/);
  } finally {
    await closeAll(alice, bob, server);
  }
});

test('a client created by the library logs on again later with its kept token alone', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  const options = await clientOptions(server, 'alice');
  try {
    await alice.close();
    const again = await Client.logon({ ...options, home: alice.homeDir });
    assert.equal(again.user, 'alice');
    assert.equal(again.publicKey, alice.publicKey);
    await again.close();
  } finally {
    await closeAll(alice, bob, server);
  }
});
