import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerSocket } from '../../src/client/peer-socket.js';
import { Puncher } from '../../src/client/punch.js';
import { decodePunchPacket, encodePunchPacket, isPunchPacket } from '../../src/client/punch-packet.js';

const SESSION = '0123456789abcdef0123456789abcdef';

test('probe packets round-trip, and anything else is not taken for one', () => {
  const packet = encodePunchPacket({ kind: 'ack', scope: 'global', session: SESSION, role: 'answerer' });
  assert.deepEqual(decodePunchPacket(packet), {
    kind: 'ack',
    scope: 'global',
    session: SESSION,
    role: 'answerer',
  });
  assert.deepEqual(
    decodePunchPacket(encodePunchPacket({ kind: 'probe', scope: 'local', session: SESSION })),
    {
      kind: 'probe',
      scope: 'local',
      session: SESSION,
    },
  );
  const stunLike = Buffer.alloc(24);
  stunLike.writeUInt32BE(0x2112a442, 4);
  assert.equal(isPunchPacket(stunLike), false);
  const broken = Buffer.from(packet);
  broken[5] = 9;
  assert.equal(decodePunchPacket(broken), null);
  assert.equal(decodePunchPacket(packet.subarray(0, 20)), null);
});

test('two sides punching towards each other find a two-way path', async () => {
  const a = PeerSocket.bind(0, '127.0.0.1');
  const b = PeerSocket.bind(0, '127.0.0.1');
  const atA = new Puncher(a, SESSION, 'global', 'initiator', 20);
  const atB = new Puncher(b, SESSION, 'global', 'answerer', 20);
  try {
    atA.start([{ host: '127.0.0.1', port: b.port }]);
    atB.start([{ host: '127.0.0.1', port: a.port }]);
    const via = await atA.firstAck();
    assert.deepEqual(via, { host: '127.0.0.1', port: b.port });
    assert.ok(atB.hasHeard({ host: '127.0.0.1', port: a.port }));
  } finally {
    atA.stop();
    atB.stop();
    await Promise.all([a.close(), b.close()]);
  }
});

test("a side never takes its own probe, come back through an address it shares, for the buddy's answer", async () => {
  const a = PeerSocket.bind(0, '127.0.0.1');
  // The buddy's offered "local address" is our own (the same docker bridge address on both hosts).
  const puncher = new Puncher(a, SESSION, 'local', 'initiator', 10);
  try {
    puncher.start([{ host: '127.0.0.1', port: a.port }]);
    const outcome = await Promise.race([
      puncher.firstAck().then(() => 'acked'),
      new Promise((resolve) => setTimeout(() => resolve('silent'), 300)),
    ]);
    assert.equal(outcome, 'silent');
  } finally {
    puncher.stop();
    await a.close();
  }
});
