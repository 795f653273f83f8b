import assert from 'node:assert/strict';
import { test } from 'node:test';
import NoiseSecretStream from '@hyperswarm/secret-stream';
import {
  Client,
  type CloseCode,
  MemoryIdentity,
  Mux,
  type PeerConnection,
  readFrame,
  StreamReader,
  writeFrame,
} from '../../src/index.js';
import { buddyPair, closeAll, newAccount, PASSWORD, startTestServer } from './helpers.js';

/** The close code a Mux over `conn` reports when the connection ends. */
function muxCloseCode(conn: PeerConnection): Promise<CloseCode> {
  const mux = new Mux(conn);
  return new Promise((resolve) => mux.once('close', ({ code }) => resolve(code)));
}

test('a relayed connection cut at the relay byte cap closes with RELAY_LIMIT, not a bare error', async () => {
  const server = await startTestServer({ relayMaxBytes: 256 * 1024 });
  const [alice, bob] = await buddyPair(server);
  try {
    const incoming = new Promise<PeerConnection>((resolve) => bob.once('connection', resolve));
    const conn = await alice.connect('bob', { path: 'relay' });
    const theirs = await incoming;
    const ours = muxCloseCode(conn);
    const bobs = muxCloseCode(theirs);
    const stream = new Mux(conn).openStream(); // a second mux would be wrong in an app: here it only writes
    stream.write(Buffer.alloc(1024 * 1024));
    assert.equal(await ours, 'RELAY_LIMIT');
    assert.equal(await bobs, 'RELAY_LIMIT');
  } finally {
    await closeAll(alice, bob, server);
  }
});

test('a relayed connection whose server shuts down closes with SERVER_GONE', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  try {
    const incoming = new Promise<PeerConnection>((resolve) => bob.once('connection', resolve));
    const conn = await alice.connect('bob', { path: 'relay' });
    await incoming;
    const ours = muxCloseCode(conn);
    await server.close();
    assert.equal(await ours, 'SERVER_GONE');
  } finally {
    await closeAll(alice, bob, server);
  }
});

test('failed attempts carry a code beside the reason; ClientError codes are typed', async () => {
  const server = await startTestServer();
  const alice = await newAccount(server, 'alice');
  // Bob is online but does not take connections: his device declines at once.
  const bob = await newAccount(server, 'bob', { listen: false });
  try {
    await alice.requestBuddy('bob');
    await bob.acceptBuddy('alice');
    const error = await alice.connect('bob', { path: 'relay' }).catch((e: unknown) => e);
    const { code, attempts } = error as { code: string; attempts: { code?: string; reason?: string }[] };
    assert.equal(code, 'NO_PATH');
    assert.ok(attempts.length > 0);
    for (const attempt of attempts) {
      assert.equal(typeof attempt.code, 'string', `attempt ${JSON.stringify(attempt)} has a code`);
      assert.notEqual(attempt.code, 'FAILED', `a specific code: ${JSON.stringify(attempt)}`);
    }
  } finally {
    await closeAll(alice, bob, server);
  }
});

test('identity is injectable: a key pair held in memory, no files', async () => {
  const server = await startTestServer();
  const keyPair = NoiseSecretStream.keyPair();
  const carol = await Client.createAccount({
    server: server.urls.ws,
    stun: server.urls.stun,
    user: 'carol',
    password: PASSWORD,
    identity: new MemoryIdentity(keyPair),
  });
  try {
    assert.equal(carol.publicKey, keyPair.publicKey.toString('hex'));
    assert.equal(carol.homeDir, '');
  } finally {
    await closeAll(carol, server);
  }
});

test('local addresses by interface name, with the peer socket port picked at bind time', async () => {
  const server = await startTestServer();
  const dave = await newAccount(server, 'dave', { localInterfaces: ['lo'] });
  const erin = await newAccount(server, 'erin', { localAddresses: [{ host: '127.0.0.1', port: 0 }] });
  try {
    assert.deepEqual(
      dave.localAddresses().filter((e) => e.host === '127.0.0.1'),
      [{ host: '127.0.0.1', port: dave.udpPort }],
    );
    assert.deepEqual(erin.localAddresses(), [{ host: '127.0.0.1', port: erin.udpPort }]);
  } finally {
    await closeAll(dave, erin, server);
  }
});

test('connect(buddy, { signal }): aborting rejects with ABORTED at once and leaves no connection on either side', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  try {
    const seen: PeerConnection[] = [];
    bob.on('connection', (c) => seen.push(c));
    await assert.rejects(alice.connect('bob', { signal: AbortSignal.abort() }), { code: 'ABORTED' });
    for (const path of ['lan', 'relay'] as const) {
      const controller = new AbortController();
      const connecting = alice.connect('bob', { path, signal: controller.signal });
      setTimeout(() => controller.abort(), 5);
      const started = performance.now();
      await assert.rejects(connecting, { code: 'ABORTED' });
      assert.ok(performance.now() - started < 1000, 'the connect stopped at once');
    }
    await new Promise((r) => setTimeout(r, 500));
    // A path that completed on bob's side anyway was never chosen (no marker): nothing open remains.
    assert.deepEqual(
      seen.filter((c) => !c.destroyed),
      [],
      'no orphan connection on the answering side',
    );
  } finally {
    await closeAll(alice, bob, server);
  }
});

test('readFrame is exported beside writeFrame and takes its own size limit', async () => {
  const { PassThrough } = await import('node:stream');
  const pipe = new PassThrough();
  await writeFrame(pipe, { big: 'x'.repeat(10_000) });
  // One reader owns the stream for all its frames.
  const reader = new StreamReader(pipe);
  const frame = (await readFrame(reader, 64 * 1024)) as { big: string };
  assert.equal(frame.big.length, 10_000);
  await writeFrame(pipe, { big: 'x'.repeat(10_000) });
  await assert.rejects(readFrame(reader, 4 * 1024), { code: 'TRANSFER_FAILED' });
});

test('timeouts per connection: the liveness given to connect() drops a silent path in its own time, not the client default', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server); // the client default: a path silent for 1.5 s is lost
  try {
    const incoming = new Promise<PeerConnection>((resolve) => bob.once('connection', resolve));
    const conn = await alice.connect('bob', { path: 'lan', liveness: { pathProbeMs: 50, pathDeadMs: 300 } });
    const theirs = await incoming;
    theirs.resume();
    conn.resume();
    // Bob's side of the path goes silent (it stops writing anything, pings included), as a frozen
    // or vanished peer would: alice must notice within her connection's 300 ms and find a new path.
    const carrier = theirs.carrierStream as { write: (...args: unknown[]) => boolean } | undefined;
    assert.ok(carrier, 'bob has a carrying path');
    carrier.write = () => true;
    const silentAt = performance.now();
    const lost = await new Promise<number>((resolve) => conn.once('lost', () => resolve(performance.now())));
    const after = lost - silentAt;
    assert.ok(
      after < 1200,
      `lost after ${after.toFixed(0)} ms: the connection's 300 ms, not the client's 1.5 s`,
    );
  } finally {
    await closeAll(alice, bob, server);
  }
});
