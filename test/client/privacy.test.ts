import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ControlChannel } from '../../src/client/control.js';
import { authenticate } from '../../src/client/credentials.js';
import { Home, NoPathError } from '../../src/client/index.js';
import type { SignalBody } from '../../src/protocol/index.js';
import { buddyPair, closeAll, exchange, newAccount, nextConnection, startTestServer } from './helpers.js';

// Linux routes all of 127.0.0.0/8 to loopback: control connections from 127.0.0.2 and 127.0.0.3
// register different addresses, so the server judges two different NATs (S23).
const HOME_A = '127.0.0.2';
const HOME_B = '127.0.0.3';

test('buddies judged behind different NATs go straight to the internet path; no LAN try', async () => {
  const server = await startTestServer();
  const alice = await newAccount(server, 'alice', { controlLocalAddress: HOME_A });
  const bob = await newAccount(server, 'bob', { controlLocalAddress: HOME_B });
  try {
    await alice.requestBuddy('bob');
    await bob.acceptBuddy('alice');
    assert.equal(await alice.sameNat('bob'), false);
    const incoming = nextConnection(bob);
    const connection = await alice.connect('bob');
    assert.equal(connection.path, 'internet');
    assert.deepEqual(
      connection.attempts.map((a) => a.path),
      ['internet'],
    );
    connection.end('over the internet');
    assert.equal((await exchange(await incoming, Buffer.alloc(0))).toString(), 'over the internet');
    const forced = await alice.connect('bob', { path: 'lan' }).catch((e: unknown) => e);
    assert.ok(forced instanceof NoPathError);
    assert.match(forced.attempts[0]?.reason ?? '', /different NAT/);
  } finally {
    await closeAll(alice, bob, server);
  }
});

test('local addresses never reach a buddy judged behind another NAT', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server, ['alice', 'bob'], { controlLocalAddress: HOME_A });
  const bobHome = new Home(bob.homeDir);
  await bob.close();
  // Bob comes back from another NAT as a raw control channel that records every signal it gets.
  const raw = await ControlChannel.open(server.urls.ws, 5000, HOME_B);
  await authenticate(raw, server.urls.ws, bobHome, {
    user: 'bob',
    useKeptToken: true,
    device: 'raw',
    listen: true,
  });
  const signals: SignalBody[] = [];
  raw.on('event', (e) => {
    if (e.event === 'signal') signals.push(e.body);
  });
  const localOfAlice = alice.localAddresses().map((e) => `${e.host}:${e.port}`);
  try {
    const error = await alice
      .connect('bob', { answerTimeoutMs: 300, relayTimeoutMs: 300 })
      .catch((e: unknown) => e);
    assert.ok(error instanceof NoPathError);
    for (const path of ['lan', 'internet', 'relay'] as const) {
      await alice.connect('bob', { path, answerTimeoutMs: 300, relayTimeoutMs: 300 }).catch(() => {});
    }
    assert.ok(signals.length > 0, 'bob did get the global offers');
    assert.deepEqual(
      signals.filter((s) => s.scope === 'local'),
      [],
    );
    const offered = signals.flatMap((s) => s.addresses.map((e) => `${e.host}:${e.port}`));
    for (const local of localOfAlice) assert.ok(!offered.includes(local), `${local} leaked`);
  } finally {
    raw.close();
    await closeAll(alice, server);
  }
});
