import assert from 'node:assert/strict';
import { test } from 'node:test';
import { discoverNatBehaviour, punchStrategy } from '../../src/client/nat-behaviour.js';
import { PeerSocket } from '../../src/client/peer-socket.js';
import { startStunServer } from '../../src/stun/index.js';

test('with no NAT in the way the socket is classed open: one mapping for both ports, port kept, answers from the other port get in', async () => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, alternatePort: 0 });
  const socket = PeerSocket.bind(0, '127.0.0.1');
  try {
    const nat = await discoverNatBehaviour(
      socket,
      { host: '127.0.0.1', port: server.port },
      { timeoutMs: 2000 },
    );
    assert.deepEqual(nat.global, { host: '127.0.0.1', port: socket.port });
    assert.equal(nat.behindNat, false);
    assert.equal(nat.mapping, 'endpoint-independent');
    assert.equal(nat.filtering, 'port-independent');
    assert.equal(nat.portPreserved, true);
    assert.ok(nat.stunRttMs >= 0);
  } finally {
    await socket.close();
    await server.close();
  }
});

test('a STUN server with one port leaves mapping and filtering unknown instead of guessing', async () => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0 });
  const socket = PeerSocket.bind(0, '127.0.0.1');
  try {
    const nat = await discoverNatBehaviour(
      socket,
      { host: '127.0.0.1', port: server.port },
      { timeoutMs: 2000 },
    );
    assert.equal(nat.mapping, 'unknown');
    assert.equal(nat.filtering, 'unknown');
  } finally {
    await socket.close();
    await server.close();
  }
});

test('a datagram to our own address comes back (loopback hairpins); one to a silent port does not', async () => {
  const socket = PeerSocket.bind(0, '127.0.0.1');
  const other = PeerSocket.bind(0, '127.0.0.1');
  try {
    assert.equal(await socket.hairpins({ host: '127.0.0.1', port: socket.port }, 500), true);
    // Another socket receives it, but nothing comes back to us.
    assert.equal(await socket.hairpins({ host: '127.0.0.1', port: other.port }, 200), false);
  } finally {
    await socket.close();
    await other.close();
  }
});

test('only two NATs that both map per destination go straight to the relay', () => {
  assert.equal(punchStrategy('address-and-port-dependent', 'address-and-port-dependent'), 'relay');
  assert.equal(punchStrategy('address-and-port-dependent', 'endpoint-independent'), 'punch');
  assert.equal(punchStrategy('endpoint-independent', 'address-and-port-dependent'), 'punch');
  assert.equal(punchStrategy('unknown', 'address-and-port-dependent'), 'punch');
  assert.equal(punchStrategy(undefined, undefined), 'punch');
});
