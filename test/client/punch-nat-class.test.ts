import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GlobalAddress } from '../../src/client/global-address.js';
import { learnWithClass } from '../../src/client/nat-class.js';
import { PeerSocket } from '../../src/client/peer-socket.js';
import { startStunServer } from '../../src/stun/index.js';

test('the NAT class is learnt with the global address from two STUN ports, and cached with it', async () => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0, alternatePort: 0 });
  const socket = PeerSocket.bind(0, '127.0.0.1');
  try {
    const learnt = await learnWithClass(socket, { host: '127.0.0.1', port: server.port }, 2000);
    assert.deepEqual(learnt.global, { host: '127.0.0.1', port: socket.port });
    assert.deepEqual(learnt.nat, { mapping: 'endpoint-independent', portPreserved: true });

    const global = new GlobalAddress(socket, 'ws://127.0.0.1:1', `127.0.0.1:${server.port}`);
    assert.equal(global.natClass(), undefined, 'nothing before the first STUN answer');
    await global.learn(2000, 60_000);
    assert.deepEqual(global.natClass(), { mapping: 'endpoint-independent', portPreserved: true });
    // A refresh asks both ports at once (the other one is known by now) and classes the same.
    assert.deepEqual(await global.learn(2000, 0), { host: '127.0.0.1', port: socket.port });
    assert.deepEqual(global.natClass(), { mapping: 'endpoint-independent', portPreserved: true });
  } finally {
    await socket.close();
    await server.close();
  }
});

test('a STUN server with one port gives the global address and an unknown mapping (plain punching)', async () => {
  const server = await startStunServer({ host: '127.0.0.1', port: 0 });
  const socket = PeerSocket.bind(0, '127.0.0.1');
  try {
    const learnt = await learnWithClass(socket, { host: '127.0.0.1', port: server.port }, 2000);
    assert.deepEqual(learnt.global, { host: '127.0.0.1', port: socket.port });
    assert.equal(learnt.nat.mapping, 'unknown');
  } finally {
    await socket.close();
    await server.close();
  }
});
