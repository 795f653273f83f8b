import assert from 'node:assert/strict';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { test } from 'node:test';
import NoiseSecretStream from '@hyperswarm/secret-stream';
import { secureAndVerify } from '../../src/client/secure-channel.js';
import { dialableOverTcp, dialFirst, TcpAnswerPort } from '../../src/client/transports/tcp.js';
import {
  buddyPair,
  closeAll,
  newAccount,
  nextConnection,
  randomPayload,
  sha256,
  startTestServer,
} from './helpers.js';

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (d: Buffer) => parts.push(d));
    stream.once('end', () => resolve(Buffer.concat(parts)));
    stream.once('error', reject);
  });
}

test('the LAN path is carried by kernel TCP, proven by Noise, and its bytes arrive intact on both sides', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  try {
    const incoming = nextConnection(bob);
    const connection = await alice.connect('bob', { path: 'lan' });
    const answered = await incoming;
    assert.equal(connection.path, 'lan');
    assert.equal(connection.transport, 'tcp');
    assert.equal(answered.transport, 'tcp');
    assert.equal(answered.remoteKey, alice.publicKey);
    const payload = randomPayload(8 * 1024 * 1024 + 3);
    const got = readAll(answered);
    connection.end(payload);
    assert.equal(sha256(await got), sha256(payload));
    answered.end();
    connection.resume();
  } finally {
    await closeAll(alice, bob, server);
  }
});

test('an answerer with TCP switched off still gets the LAN path, over the UDP socket (UDX)', async () => {
  const server = await startTestServer();
  const alice = await newAccount(server, 'alice');
  const bob = await newAccount(server, 'bob', { tcp: false });
  try {
    await alice.requestBuddy('bob');
    await bob.acceptBuddy('alice');
    const incoming = nextConnection(bob);
    const connection = await alice.connect('bob', { path: 'lan' });
    const answered = await incoming;
    assert.equal(connection.path, 'lan');
    assert.equal(connection.transport, 'udx');
    assert.equal(answered.transport, 'udx');
    answered.destroy();
    connection.destroy();
  } finally {
    await closeAll(alice, bob, server);
  }
});

test("a stranger first on the answerer's TCP port is dropped; the buddy who proves the pinned key gets the session", async () => {
  const answerer = NoiseSecretStream.keyPair();
  const buddy = NoiseSecretStream.keyPair();
  const stranger = NoiseSecretStream.keyPair();
  const port = await TcpAnswerPort.open('127.0.0.1');
  const portNumber = port.port;
  const verify = (socket: Socket) =>
    secureAndVerify(socket, {
      keyPair: answerer,
      pinnedKey: buddy.publicKey,
      buddy: 'alice',
      isInitiator: false,
      timeoutMs: 2000,
    });
  const won = port.firstVerified(verify, 5000);
  // The stranger completes a Noise handshake with its own key: the key check must refuse it.
  const impostor = new NoiseSecretStream(true, tcpConnect(portNumber, '127.0.0.1'), { keyPair: stranger });
  impostor.on('error', () => {});
  const impostorClosed = new Promise((resolve) => impostor.once('close', resolve));
  await impostorClosed;
  const real = new NoiseSecretStream(true, tcpConnect(portNumber, '127.0.0.1'), { keyPair: buddy });
  real.on('error', () => {});
  const secret = await won;
  assert.deepEqual(secret.remotePublicKey, buddy.publicKey);
  // The listener closed with the win: nobody else gets in.
  await assert.rejects(
    dialFirst([{ host: '127.0.0.1', port: portNumber }], 1000, new AbortController().signal),
    (error: Error & { code?: string }) => error.code === 'TCP_FAILED',
  );
  secret.destroy();
  real.destroy();
});

test('a buddy who dials before the answerer waits on its port (the answer outran its acknowledgement) is still proven', async () => {
  const answerer = NoiseSecretStream.keyPair();
  const buddy = NoiseSecretStream.keyPair();
  const port = await TcpAnswerPort.open('127.0.0.1');
  try {
    // The buddy connects and sends its first handshake message at once, as it does the moment the
    // server forwards the answer; the answerer starts waiting only afterwards.
    const socket = tcpConnect(port.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const dialled = secureAndVerify(socket, {
      keyPair: buddy,
      pinnedKey: answerer.publicKey,
      buddy: 'bob',
      isInitiator: true,
      timeoutMs: 3000,
    });
    await new Promise((resolve) => setTimeout(resolve, 100)); // the accept happens meanwhile
    const verify = (raw: Socket) =>
      secureAndVerify(raw, {
        keyPair: answerer,
        pinnedKey: buddy.publicKey,
        buddy: 'alice',
        isInitiator: false,
        timeoutMs: 3000,
      });
    const [ours, theirs] = await Promise.all([port.firstVerified(verify, 3000), dialled]);
    assert.deepEqual(ours.remotePublicKey, buddy.publicKey);
    assert.deepEqual(theirs.remotePublicKey, answerer.publicKey);
    ours.destroy();
    theirs.destroy();
  } finally {
    port.close();
  }
});

test('an answer port that nobody proves gives up after its time, with a typed error', async () => {
  const port = await TcpAnswerPort.open('127.0.0.1');
  const started = performance.now();
  await assert.rejects(
    port.firstVerified(() => Promise.reject(new Error('never')), 150),
    (error: Error & { code?: string }) => error.code === 'TCP_FAILED',
  );
  assert.ok(performance.now() - started < 1000);
});

test('dialling keeps the first address that takes a connection and drops the refused ones', async () => {
  const listener = createServer((s) => s.on('error', () => {}));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const open = (listener.address() as { port: number }).port;
  // A port that was free a moment ago: refused.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const refused = (closed.address() as { port: number }).port;
  await new Promise((resolve) => closed.close(resolve));
  try {
    const socket = await dialFirst(
      [
        { host: '127.0.0.1', port: refused },
        { host: '127.0.0.1', port: open },
      ],
      1000,
      new AbortController().signal,
    );
    assert.equal(socket.remotePort, open);
    socket.destroy();
    await assert.rejects(
      dialFirst([{ host: '127.0.0.1', port: refused }], 1000, new AbortController().signal),
      (error: Error & { code?: string }) => error.code === 'TCP_FAILED',
    );
    const cancel = new AbortController();
    cancel.abort();
    await assert.rejects(
      dialFirst([{ host: '127.0.0.1', port: open }], 1000, cancel.signal),
      (error: Error & { code?: string }) => error.code === 'ABORTED',
    );
  } finally {
    listener.close();
  }
});

test('a TCP port is offered on the LAN and to the internet only from a public address, never from behind a NAT', () => {
  const lan = [{ host: '192.168.1.10' }, { host: '127.0.0.1' }];
  assert.equal(dialableOverTcp('local', [{ host: '192.168.1.10', port: 5000 }], lan), true);
  // Behind a NAT: STUN reports the NAT's address, which no interface of ours has.
  assert.equal(dialableOverTcp('global', [{ host: '198.51.100.7', port: 40000 }], lan), false);
  // A public host (or most IPv6): the global address is our own interface's.
  const publicHost = [{ host: '203.0.113.5' }, { host: '2001:db8::5' }];
  assert.equal(dialableOverTcp('global', [{ host: '203.0.113.5', port: 40000 }], publicHost), true);
  assert.equal(dialableOverTcp('global', [{ host: '2001:db8::5', port: 40000 }], publicHost), true);
  assert.equal(dialableOverTcp('global', [{ host: '::ffff:203.0.113.5', port: 40000 }], publicHost), true);
});

test('an answerer whose global address is its own (no NAT) carries the internet path over TCP', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  try {
    const incoming = nextConnection(bob);
    // On loopback STUN reflects 127.0.0.1, an address of bob's own interface: bob is "public".
    const connection = await alice.connect('bob', { path: 'internet' });
    const answered = await incoming;
    assert.equal(connection.path, 'internet');
    assert.equal(connection.transport, 'tcp');
    assert.equal(answered.transport, 'tcp');
    answered.destroy();
    connection.destroy();
  } finally {
    await closeAll(alice, bob, server);
  }
});
