import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PortProbe } from '../../src/client/birthday/port-probe.js';
import { SideSockets } from '../../src/client/birthday/side-sockets.js';
import { pairStrategy } from '../../src/client/birthday/strategy.js';
import type { NatClass } from '../../src/client/nat-class.js';
import { PeerSocket } from '../../src/client/peer-socket.js';
import { decodePunchPacket, encodePunchPacket } from '../../src/client/punch-packet.js';
import { type Endpoint, signalBody } from '../../src/protocol/index.js';

const SESSION = '0123456789abcdef0123456789abcdef';
const hard: NatClass = { mapping: 'address-and-port-dependent', portPreserved: false };
const easy: NatClass = { mapping: 'endpoint-independent', portPreserved: true };
const unknown: NatClass = { mapping: 'unknown', portPreserved: false };

test('the pair strategy: both hard → relay, one hard → birthday roles, anything unknown → plain punching', () => {
  assert.equal(pairStrategy(hard, hard), 'relay');
  assert.equal(pairStrategy(hard, easy), 'open-sockets');
  assert.equal(pairStrategy(easy, hard), 'probe-ports');
  assert.equal(pairStrategy(easy, easy), 'punch');
  assert.equal(pairStrategy(hard, unknown), 'punch');
  assert.equal(pairStrategy(hard, undefined), 'punch', 'an older buddy that sends no class');
  assert.equal(pairStrategy(undefined, hard), 'punch');
});

test('a signal carries a NAT class, and a malformed one is refused by the schema', () => {
  const body = { session: SESSION, purpose: 'offer', scope: 'global', addresses: [], nat: easy };
  assert.deepEqual(signalBody.parse(body).nat, easy);
  assert.equal(
    signalBody.safeParse({ ...body, nat: { mapping: 'symmetric', portPreserved: true } }).success,
    false,
  );
  assert.equal(signalBody.safeParse({ ...body, nat: { ...easy, extra: 1 } }).success, false);
  assert.equal(signalBody.safeParse({ ...body, nat: { mapping: 'unknown' } }).success, false);
  assert.equal(signalBody.parse({ ...body, nat: undefined }).nat, undefined);
});

/** Counts what a prober sends without sending it: only the caps are under test here, not a path. */
function countingSocket(): { socket: PeerSocket; sent: Endpoint[] } {
  const sent: Endpoint[] = [];
  const socket = {
    canReach: () => true,
    send: (_packet: Uint8Array, to: Endpoint) => sent.push(to),
  } as unknown as PeerSocket;
  return { socket, sent };
}

test('random-port probes never go to multicast, broadcast, unspecified, loopback, link-local or IPv6 hosts', () => {
  for (const ip of [
    '224.0.0.1',
    '255.255.255.255',
    '0.0.0.0',
    '127.0.0.1',
    '169.254.1.1',
    '2001:db8::1',
    'not-an-ip',
  ]) {
    const { socket, sent } = countingSocket();
    const probe = new PortProbe(socket, SESSION, 'answerer');
    assert.equal(probe.start(ip), false, ip);
    probe.stop();
    assert.equal(sent.length, 0, ip);
  }
});

test('random-port probes keep to their packet cap, to one IP, each port once, in 1024–65535', async () => {
  const { socket, sent } = countingSocket();
  const probe = new PortProbe(socket, SESSION, 'answerer', { maxProbes: 300, probesPerSecond: 20_000 });
  assert.ok(probe.start('198.51.100.7'));
  await new Promise((r) => setTimeout(r, 400));
  probe.stop();
  assert.equal(sent.length, 300);
  assert.equal(probe.sent, 300);
  assert.ok(sent.every((e) => e.host === '198.51.100.7' && e.port >= 1024 && e.port <= 65535));
  assert.equal(new Set(sent.map((e) => e.port)).size, 300, 'no port probed twice');
});

test('random-port probes stop at their time cap and keep to their rate', async () => {
  const { socket, sent } = countingSocket();
  const probe = new PortProbe(socket, SESSION, 'answerer', { maxMs: 200, probesPerSecond: 500 });
  probe.start('198.51.100.7');
  await new Promise((r) => setTimeout(r, 600));
  const atCap = sent.length;
  await new Promise((r) => setTimeout(r, 100));
  probe.stop();
  assert.equal(sent.length, atCap, 'nothing after the time cap');
  // 500 per second for 200 ms is 100; timers on a loaded machine only ever send fewer.
  assert.ok(atCap > 0 && atCap <= 110, `sent ${atCap}`);
});

test('side sockets: the one the buddy probes acks it, probes back, and wins when acked; a stranger is ignored', async () => {
  const hardSide = PeerSocket.bind(0, '127.0.0.1');
  const easySide = PeerSocket.bind(0, '127.0.0.1');
  const stranger = PeerSocket.bind(0, '127.0.0.2');
  const easy: Endpoint = { host: '127.0.0.1', port: easySide.port };
  const heard: { packet: string; from: Endpoint }[] = [];
  easySide.onPunchPacket((packet, from) =>
    heard.push({ packet: decodePunchPacket(packet)?.kind ?? '?', from }),
  );
  const sides = new SideSockets(hardSide, SESSION, 'initiator', { sockets: 8, socketIntervalMs: 10_000 });
  try {
    assert.ok(sides.start([easy]));
    const winner = sides.winner();
    await waitFor(() => heard.length >= 8);
    assert.equal(heard.filter((h) => h.packet === 'probe').length, 8, 'one probe per side socket');
    const target = heard[3]!.from;
    // A stranger's probe to that port is not the buddy: ignored (not acked).
    const probe = encodePunchPacket({ kind: 'probe', scope: 'global', session: SESSION, role: 'answerer' });
    stranger.send(probe, target);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(heard.length, 8);
    easySide.send(probe, target);
    await waitFor(() => heard.length >= 10);
    assert.deepEqual(
      heard.slice(8).map((h) => [h.packet, h.from.port]),
      [
        ['ack', target.port],
        ['probe', target.port],
      ],
    );
    easySide.send(
      encodePunchPacket({ kind: 'ack', scope: 'global', session: SESSION, role: 'answerer' }),
      target,
    );
    const win = await winner;
    assert.deepEqual(win.from, easy);
    assert.equal(win.via.address()?.port, target.port);
    assert.equal(sides.heardOn(easy), win.via);
    assert.equal(sides.sent, 10, 'eight probes, one ack, one probe back');
  } finally {
    sides.stop();
    await Promise.all([hardSide.close(), easySide.close(), stranger.close()]);
  }
});

test('side sockets stop at their packet cap', async () => {
  const hardSide = PeerSocket.bind(0, '127.0.0.1');
  const easySide = PeerSocket.bind(0, '127.0.0.1');
  let count = 0;
  easySide.onPunchPacket(() => count++);
  const sides = new SideSockets(hardSide, SESSION, 'initiator', {
    sockets: 4,
    socketIntervalMs: 20,
    socketMaxPackets: 10,
  });
  try {
    sides.start([{ host: '127.0.0.1', port: easySide.port }]);
    await waitFor(() => count >= 10);
    // Rounds every 20 ms go on; none may send past the cap.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sides.sent, 10);
    assert.equal(count, 10);
  } finally {
    sides.stop();
    await Promise.all([hardSide.close(), easySide.close()]);
  }
});

async function waitFor(done: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
