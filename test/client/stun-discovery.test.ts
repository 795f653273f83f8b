import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GlobalAddress } from '../../src/client/global-address.js';
import { PeerSocket } from '../../src/client/peer-socket.js';
import { resultSchemas } from '../../src/protocol/index.js';
import { startStunServer } from '../../src/stun/server.js';
import { buddyPair, closeAll, exchange, newAccount, nextConnection, startTestServer } from './helpers.js';

test('a server on a random STUN port works with no stun option: the client learns the port at logon', async () => {
  const server = await startTestServer({ stunPort: 0 });
  assert.notEqual(server.stun.port, 3478);
  const [alice, bob] = await buddyPair(server, ['alice', 'bob'], { stun: undefined });
  try {
    const global = await alice.globalAddress();
    assert.deepEqual(global, { host: '127.0.0.1', port: alice.udpPort });
    const incoming = nextConnection(bob);
    const outgoing = await alice.connect('bob', { path: 'internet' });
    assert.equal(outgoing.path, 'internet');
    outgoing.end('over the internet path, STUN found without --stun');
    const received = await exchange(await incoming, Buffer.alloc(0));
    assert.equal(received.toString(), 'over the internet path, STUN found without --stun');
  } finally {
    await closeAll(alice, bob, server);
  }
});

test('an explicit stun option still wins over the STUN endpoint the server names', async () => {
  const server = await startTestServer({ stunPort: 0 });
  let askedOther = 0;
  const other = await startStunServer({ host: '127.0.0.1', port: 0, onBinding: () => askedOther++ });
  // The server's own STUN is still reachable: only the override can explain asking the other one.
  const alice = await newAccount(server, 'alice', { stun: `udp://127.0.0.1:${other.port}` });
  try {
    await alice.globalAddress();
    assert.equal(askedOther, 1);
    const metrics = await (await fetch(`${server.urls.http}/metrics`)).text();
    const answered = /buddylink_stun_requests_total\{outcome="answered"\} (\d+)/.exec(metrics);
    assert.equal(Number(answered?.[1] ?? 0), 0, "the server's STUN was not asked");
  } finally {
    await closeAll(alice, other, server);
  }
});

test('without a STUN endpoint from the server (an older one), the client assumes port 3478 on its host', async () => {
  const socket = PeerSocket.bind(0, '127.0.0.1');
  try {
    const old = new GlobalAddress(socket, 'ws://127.0.0.1:7070', undefined);
    assert.deepEqual(await old.server(), { host: '127.0.0.1', port: 3478 });
    const told = new GlobalAddress(socket, 'ws://127.0.0.1:7070', undefined);
    told.useAdvertised([{ port: 40000 }]);
    assert.deepEqual(await told.server(), { host: '127.0.0.1', port: 40000 }, "the control server's host");
    told.useAdvertised([
      { host: '::1', port: 40001 },
      { host: '127.0.0.2', port: 40002 },
    ]);
    assert.deepEqual(
      await told.server(),
      { host: '127.0.0.2', port: 40002 },
      'a named host this IPv4 socket can reach, not the IPv6 one',
    );
    const overridden = new GlobalAddress(socket, 'ws://127.0.0.1:7070', '127.0.0.3');
    overridden.useAdvertised([{ port: 40000 }]);
    assert.deepEqual(
      await overridden.server(),
      { host: '127.0.0.3', port: 3478 },
      'the option, port 3478 by default',
    );
  } finally {
    await socket.close();
  }
});

test('a logon result whose STUN endpoints break the protocol is refused, not used', () => {
  const base = { user: 'alice', token: 'a'.repeat(43), device: 'laptop', tokenExpiresAt: 1 };
  const parse = (stun: unknown) => resultSchemas.logon.safeParse({ ...base, stun }).success;
  assert.equal(parse([{ port: 3479 }]), true);
  assert.equal(parse([{ host: 'fe80::1', port: 3479 }]), true);
  assert.equal(parse([{ host: 'stun.example', port: 3479 }]), false, 'an IP literal only');
  assert.equal(parse([{ port: 0 }]), false);
  assert.equal(parse([{ port: 3479, extra: true }]), false, 'strict');
  assert.equal(parse([]), false);
  assert.equal(resultSchemas.logon.safeParse(base).success, true, 'older servers omit it');
});
