import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import type { PathName } from '../../src/client/index.js';
import {
  buddyPair,
  closeAll,
  exchange,
  newAccount,
  nextConnection,
  randomPayload,
  sha256,
  startTestServer,
} from './helpers.js';

const PAYLOAD_BYTES = 4 * 1024 * 1024;

for (const path of ['lan', 'internet', 'relay'] as PathName[]) {
  test(`buddies connect over the ${path} path and several MiB arrive intact in both directions`, async () => {
    const server = await startTestServer();
    const [alice, bob] = await buddyPair(server);
    try {
      const incoming = nextConnection(bob);
      const outgoing = await alice.connect('bob', { path });
      const answered = await incoming;
      assert.equal(outgoing.path, path);
      assert.equal(answered.path, path);
      assert.equal(outgoing.remoteUser, 'bob');
      assert.equal(answered.remoteUser, 'alice');
      assert.equal(outgoing.remoteKey, bob.publicKey);
      assert.equal(answered.remoteKey, alice.publicKey);
      assert.deepEqual(
        outgoing.attempts.map((a) => [a.path, a.ok]),
        [[path, true]],
      );
      const fromAlice = randomPayload(PAYLOAD_BYTES);
      const fromBob = randomPayload(PAYLOAD_BYTES);
      const [atBob, atAlice] = await Promise.all([
        exchange(answered, fromBob),
        exchange(outgoing, fromAlice),
      ]);
      assert.equal(sha256(atBob), sha256(fromAlice));
      assert.equal(sha256(atAlice), sha256(fromBob));
    } finally {
      await closeAll(alice, bob, server);
    }
  });
}

test('either buddy can open the connection: bob connects to alice as well as alice to bob', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  try {
    for (const [from, to, name] of [
      [alice, bob, 'bob'],
      [bob, alice, 'alice'],
    ] as const) {
      const incoming = nextConnection(to);
      const outgoing = await from.connect(name);
      const answered = await incoming;
      const payload = randomPayload(512 * 1024);
      const [received] = await Promise.all([
        exchange(answered, Buffer.alloc(0)),
        exchange(outgoing, payload),
      ]);
      assert.equal(sha256(received), sha256(payload));
    }
  } finally {
    await closeAll(alice, bob, server);
  }
});

test('auto takes the LAN path for buddies the server judges to be behind the same NAT', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  try {
    assert.equal(await alice.sameNat('bob'), true);
    const incoming = nextConnection(bob);
    const connection = await alice.connect('bob');
    assert.equal(connection.path, 'lan');
    assert.equal(connection.attempts[0]?.path, 'lan');
    assert.equal(connection.attempts[0]?.ok, true);
    assert.ok(connection.connectMs >= 0);
    (await incoming).destroy();
    connection.destroy();
  } finally {
    await closeAll(alice, bob, server);
  }
});

test('a silent LAN address moves the connection on to the internet path, and the report says why', async () => {
  const server = await startTestServer();
  // A bound UDP socket that never answers: a LAN address that leads nowhere (isolated Wi-Fi, a
  // stranger's reused private range).
  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  const silentPort = silent.address().port;
  // Both sides offer only that address, so neither side's probes reach the other on the LAN.
  const nowhere = [{ host: '127.0.0.1', port: silentPort }];
  const alice = await newAccount(server, 'alice', {
    localAddresses: nowhere,
    // On loopback the answerer's TCP port is always reachable: TCP off, so the LAN leads nowhere.
    tcp: false,
    timeouts: { lanTimeoutMs: 700 },
  });
  const bob = await newAccount(server, 'bob', { localAddresses: nowhere, tcp: false });
  try {
    await alice.requestBuddy('bob');
    await bob.acceptBuddy('alice');
    const incoming = nextConnection(bob);
    const connection = await alice.connect('bob');
    assert.equal(connection.path, 'internet');
    const lan = connection.attempts.find((a) => a.path === 'lan');
    assert.equal(lan?.ok, false);
    assert.match(lan?.reason ?? '', /timed out|superseded/);
    (await incoming).destroy();
    connection.destroy();
  } finally {
    silent.close();
    await closeAll(alice, bob, server);
  }
});

for (const path of ['lan', 'internet', 'relay'] as PathName[]) {
  test(`a connection ended at once still delivers its bytes and its end to the answering side (${path})`, async () => {
    const server = await startTestServer();
    const [alice, bob] = await buddyPair(server);
    try {
      const incoming = nextConnection(bob);
      const outgoing = await alice.connect('bob', { path });
      outgoing.end(Buffer.from('short and final'));
      const answered = await incoming;
      const received = await exchange(answered, Buffer.alloc(0));
      assert.equal(received.toString(), 'short and final');
      outgoing.resume();
      await new Promise((closed) => outgoing.once('close', closed));
    } finally {
      await closeAll(alice, bob, server);
    }
  });
}

test('over IPv6 loopback, STUN answers with the IPv6 address and every path works', async () => {
  const server = await startTestServer({ host: '::1' });
  const [alice, bob] = await buddyPair(server);
  try {
    assert.equal((await alice.globalAddress()).host, '::1');
    for (const path of ['auto', 'internet', 'relay'] as const) {
      const incoming = nextConnection(bob);
      const outgoing = await alice.connect('bob', { path });
      outgoing.end(Buffer.from(`v6 ${path}`));
      assert.equal((await exchange(await incoming, Buffer.alloc(0))).toString(), `v6 ${path}`);
    }
  } finally {
    await closeAll(alice, bob, server);
  }
});

test('many connections in a row all succeed: settled answers do not count against the answer limit', async () => {
  const server = await startTestServer({ messagesPerSecond: 1000, messageBurst: 1000 });
  const [alice, bob] = await buddyPair(server);
  bob.on('connection', (c) => {
    c.resume();
    c.on('end', () => c.end());
  });
  try {
    for (let i = 0; i < 40; i++) {
      const connection = await alice.connect('bob', { path: 'lan' });
      connection.end();
      connection.resume();
      await new Promise((closed) => connection.once('close', closed));
    }
  } finally {
    await closeAll(alice, bob, server);
  }
});

test('direct tries still hanging after the relay head start get the relay racing beside them, and go on', async () => {
  const server = await startTestServer();
  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  const nowhere = [{ host: '127.0.0.1', port: silent.address().port }];
  const alice = await newAccount(server, 'alice', { localAddresses: nowhere, tcp: false });
  const bob = await newAccount(server, 'bob', { localAddresses: nowhere, tcp: false });
  try {
    await alice.requestBuddy('bob');
    await bob.acceptBuddy('alice');
    const incoming = nextConnection(bob);
    // The LAN leads nowhere and holds the internet try back for its whole (long) head start.
    const connection = await alice.connect('bob', {
      lanTimeoutMs: 8000,
      lanHeadStartMs: 8000,
      relayHeadStartMs: 300,
    });
    assert.equal(connection.path, 'relay');
    assert.ok(connection.connectMs < 3000, `connected after ${connection.connectMs} ms`);
    // The relay carries the session while the LAN try goes on (a direct path would take over).
    assert.equal(
      connection.attempts.find((a) => a.path === 'lan'),
      undefined,
    );
    connection.end('via the relay');
    assert.equal((await exchange(await incoming, Buffer.alloc(0))).toString(), 'via the relay');
  } finally {
    silent.close();
    await closeAll(alice, bob, server);
  }
});
