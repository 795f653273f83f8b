import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ControlChannel } from '../../src/client/control.js';
import { authenticate } from '../../src/client/credentials.js';
import { Home, NoPathError } from '../../src/client/index.js';
import { ProtocolError, type ServerEvent } from '../../src/protocol/index.js';
import { buddyPair, closeAll, newAccount, startTestServer } from './helpers.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (e: unknown) => (e instanceof Error && 'code' in e ? String(e.code) : String(e)),
  );
}

test('a non-buddy cannot connect, cannot be judged and learns no address', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  const carol = await newAccount(server, 'carol');
  // Carol's own raw control channel: every event she receives is recorded.
  const raw = await ControlChannel.open(server.urls.ws, 5000);
  await authenticate(raw, server.urls.ws, new Home(carol.homeDir), {
    user: 'carol',
    useKeptToken: true,
    device: 'raw',
    listen: true,
  });
  const seen: ServerEvent[] = [];
  raw.on('event', (e) => seen.push(e));
  try {
    assert.equal(await codeOf(carol.connect('alice')), 'NOT_BUDDY');
    assert.equal(await codeOf(carol.sameNat('alice')), 'NOT_BUDDY');
    assert.equal(await codeOf(alice.connect('carol')), 'NOT_BUDDY');
    const offer = {
      session: '00112233445566778899aabbccddeeff',
      purpose: 'offer' as const,
      scope: 'global' as const,
      addresses: [{ host: '127.0.0.1', port: 9 }],
      streamId: 7,
    };
    const refused = await raw.request('signal', { to: 'alice', body: offer }).catch((e: unknown) => e);
    assert.ok(refused instanceof ProtocolError);
    assert.equal(refused.code, 'NOT_BUDDY');
    assert.equal(await codeOf(raw.request('registeredAddress', { buddy: 'alice' })), 'FORBIDDEN');
    // Alice connecting to bob meanwhile sends carol nothing.
    const incoming = new Promise<{ destroy(): void }>((resolve) => bob.once('connection', resolve));
    const connection = await alice.connect('bob');
    (await incoming).destroy();
    connection.destroy();
    assert.deepEqual(
      seen.filter((e) => e.event === 'signal'),
      [],
    );
  } finally {
    raw.close();
    await closeAll(alice, bob, carol, server);
  }
});

test('a pending request is not a buddy: the requester cannot connect', async () => {
  const server = await startTestServer();
  const alice = await newAccount(server, 'alice');
  const dave = await newAccount(server, 'dave');
  try {
    await dave.requestBuddy('alice');
    assert.equal(await codeOf(dave.connect('alice')), 'NOT_BUDDY');
    assert.equal(await codeOf(alice.connect('dave')), 'NOT_BUDDY');
  } finally {
    await closeAll(alice, dave, server);
  }
});

test('an offline buddy is reported at once as BUDDY_OFFLINE, not after the path timeouts', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  await bob.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  try {
    const started = performance.now();
    assert.equal(await codeOf(alice.connect('bob')), 'BUDDY_OFFLINE');
    assert.ok(performance.now() - started < 1000, 'fails fast');
    assert.equal(await codeOf(alice.connect('bob', { path: 'internet' })), 'BUDDY_OFFLINE');
    assert.equal(await codeOf(alice.connect('bob', { path: 'relay' })), 'BUDDY_OFFLINE');
  } finally {
    await closeAll(alice, server);
  }
});

test('a buddy online on a device that takes no connections declines every path at once', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server, ['alice', 'bob'], { listen: false });
  try {
    const started = performance.now();
    const error = await alice.connect('bob').catch((e: unknown) => e);
    assert.ok(error instanceof NoPathError);
    // The internet exchange overlaps the LAN try, so the two may finish in either order; the relay is last.
    assert.deepEqual(error.attempts.map((a) => a.path).sort(), ['internet', 'lan', 'relay']);
    assert.equal(error.attempts.at(-1)?.path, 'relay');
    for (const attempt of error.attempts) assert.match(attempt.reason ?? '', /does not take connections/);
    assert.ok(performance.now() - started < 2000, 'declined, not timed out');
  } finally {
    await closeAll(alice, bob, server);
  }
});
