import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerSocket } from '../../src/client/peer-socket.js';
import { Puncher, type PunchOptions } from '../../src/client/punch.js';
import {
  decodePunchPacket,
  encodePunchPacket,
  isPunchPacket,
  type PunchRole,
  type PunchScope,
} from '../../src/client/punch-packet.js';
import type { Endpoint } from '../../src/protocol/index.js';

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

/** A PeerSocket stand-in that records what the puncher sends and lets a test deliver packets. */
class RecordingSocket {
  readonly sent: { packet: Buffer; to: Endpoint; ttl: number | undefined }[] = [];
  private listener: ((packet: Buffer, from: Endpoint) => void) | undefined;

  canReach(): boolean {
    return true;
  }

  send(packet: Uint8Array, to: Endpoint, ttl?: number): void {
    this.sent.push({ packet: Buffer.from(packet), to, ttl });
  }

  onPunchPacket(listener: (packet: Buffer, from: Endpoint) => void): () => void {
    this.listener = listener;
    return () => {
      this.listener = undefined;
    };
  }

  deliver(packet: Buffer, from: Endpoint): void {
    this.listener?.(packet, from);
  }

  kinds(): string[] {
    return this.sent.map((s) => decodePunchPacket(s.packet)?.kind ?? 'junk');
  }
}

function puncherOn(
  socket: RecordingSocket,
  role: PunchRole,
  options: Partial<PunchOptions>,
  scope: PunchScope = 'global',
) {
  return new Puncher(socket as unknown as PeerSocket, SESSION, scope, role, { intervalMs: 10, ...options });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const INITIATOR_AT = { host: '198.51.100.7', port: 40000 };
const probeFrom = (role: PunchRole) =>
  encodePunchPacket({ kind: 'probe', scope: 'global', session: SESSION, role });

test('the answerer opens its NAT with low-TTL probes and goes to full TTL once it hears the initiator', async () => {
  const socket = new RecordingSocket();
  const answerer = puncherOn(socket, 'answerer', { openingTtl: 3, holdMs: 10_000 });
  try {
    answerer.start([INITIATOR_AT]);
    await sleep(35);
    assert.ok(socket.sent.length >= 2, 'several opening rounds');
    assert.ok(
      socket.sent.every((s) => s.ttl === 3),
      'every probe before the initiator is heard has TTL 3',
    );
    const opening = socket.sent.length;
    socket.deliver(probeFrom('initiator'), INITIATOR_AT);
    await sleep(25);
    const after = socket.sent.slice(opening);
    assert.equal(decodePunchPacket(after[0]!.packet)?.kind, 'ack');
    assert.ok(after.length >= 2, 'probing goes on after the ack');
    assert.ok(
      after.every((s) => s.ttl === undefined),
      'the ack and later probes go at full TTL',
    );
    assert.deepEqual(answerer.sent, {
      probes: socket.kinds().filter((k) => k === 'probe').length,
      openingProbes: opening,
      acks: 1,
    });
  } finally {
    answerer.stop();
  }
});

test('the answerer stops holding back after holdMs even if it never hears the initiator', async () => {
  const socket = new RecordingSocket();
  const answerer = puncherOn(socket, 'answerer', { openingTtl: 3, holdMs: 30 });
  try {
    answerer.start([INITIATOR_AT]);
    await sleep(80);
    const ttls = socket.sent.map((s) => s.ttl);
    assert.equal(ttls[0], 3);
    assert.equal(ttls.at(-1), undefined, 'full TTL once the hold is over');
    assert.ok(
      ttls.indexOf(undefined) > 0 && ttls.slice(ttls.indexOf(undefined)).every((t) => t === undefined),
    );
  } finally {
    answerer.stop();
  }
});

test('the initiator, and any LAN try, probe at full TTL from the first packet', async () => {
  const initiatorSocket = new RecordingSocket();
  const lanSocket = new RecordingSocket();
  const initiator = puncherOn(initiatorSocket, 'initiator', { openingTtl: 3 });
  const lanAnswerer = puncherOn(lanSocket, 'answerer', { openingTtl: 3 }, 'local');
  try {
    initiator.start([INITIATOR_AT]);
    lanAnswerer.start([INITIATOR_AT]);
    await sleep(25);
    assert.ok(initiatorSocket.sent.length > 0 && initiatorSocket.sent.every((s) => s.ttl === undefined));
    assert.ok(lanSocket.sent.length > 0 && lanSocket.sent.every((s) => s.ttl === undefined));
  } finally {
    initiator.stop();
    lanAnswerer.stop();
  }
});

test('an ack from an address that was not offered (a mapping that moved) is a proven path and may open the stream', async () => {
  const socket = new RecordingSocket();
  const initiator = puncherOn(socket, 'initiator', {});
  const moved = { host: '203.0.113.11', port: 51234 };
  try {
    initiator.start([{ host: '203.0.113.11', port: 40000 }]);
    socket.deliver(
      encodePunchPacket({ kind: 'ack', scope: 'global', session: SESSION, role: 'answerer' }),
      moved,
    );
    assert.deepEqual(await initiator.firstAck(), moved);
    assert.ok(initiator.hasHeard(moved));
  } finally {
    initiator.stop();
  }
});

test('a probe from an address that was not offered becomes a candidate, within the bound on learned ones', async () => {
  const socket = new RecordingSocket();
  const answerer = puncherOn(socket, 'answerer', { openingTtl: 0, maxLearned: 2 });
  try {
    answerer.start([]);
    for (let port = 50001; port <= 50004; port++)
      socket.deliver(probeFrom('initiator'), { host: '203.0.113.10', port });
    socket.sent.length = 0;
    await sleep(25);
    const probed = new Set(socket.sent.map((s) => s.to.port));
    assert.deepEqual([...probed].sort(), [50001, 50002]);
  } finally {
    answerer.stop();
  }
});

test('never probes multicast, broadcast, unspecified or port 0, whether offered or claimed as a source', async () => {
  const socket = new RecordingSocket();
  const puncher = puncherOn(socket, 'initiator', {});
  const forbidden: Endpoint[] = [
    { host: '224.0.0.251', port: 5353 },
    { host: '239.255.255.250', port: 1900 },
    { host: '255.255.255.255', port: 40000 },
    { host: '0.0.0.0', port: 40000 },
    { host: '::', port: 40000 },
    { host: 'ff02::1', port: 40000 },
    { host: '::ffff:224.0.0.1', port: 40000 },
    { host: '203.0.113.11', port: 0 },
  ];
  try {
    puncher.start(forbidden);
    for (const from of forbidden) socket.deliver(probeFrom('answerer'), from);
    await sleep(25);
    assert.deepEqual(socket.sent, []);
    assert.ok(!puncher.hasHeard(forbidden[0]!));
  } finally {
    puncher.stop();
  }
});

test('a try sends at most maxPackets datagrams and nothing after maxMs', async () => {
  const capped = new RecordingSocket();
  const timed = new RecordingSocket();
  const byPackets = puncherOn(capped, 'initiator', { maxPackets: 5 });
  const byTime = puncherOn(timed, 'initiator', { maxMs: 30 });
  try {
    byPackets.start([INITIATOR_AT, { host: '198.51.100.8', port: 40000 }]);
    byTime.start([INITIATOR_AT]);
    await sleep(80);
    assert.equal(capped.sent.length, 5);
    capped.deliver(probeFrom('answerer'), INITIATOR_AT);
    assert.equal(capped.sent.length, 5, 'no ack past the cap either');
    const sentByTime = timed.sent.length;
    assert.ok(sentByTime >= 1 && sentByTime <= 5, `${sentByTime} probes in 30 ms at 10 ms`);
    await sleep(30);
    assert.equal(timed.sent.length, sentByTime);
    assert.equal(byPackets.sent.probes, 5);
  } finally {
    byPackets.stop();
    byTime.stop();
  }
});

test('with no host the peer socket holds one port for IPv4 and IPv6, and low-TTL probes still reach a loopback buddy', async () => {
  const dual = PeerSocket.bind(0);
  const v4 = PeerSocket.bind(0, '127.0.0.1');
  const atDual = new Puncher(dual, SESSION, 'global', 'answerer', { intervalMs: 10, openingTtl: 3 });
  const atV4 = new Puncher(v4, SESSION, 'global', 'initiator', 10);
  try {
    assert.ok(dual.canReach({ host: '127.0.0.1', port: 1 }));
    atDual.start([{ host: '127.0.0.1', port: v4.port }]);
    atV4.start([{ host: '127.0.0.1', port: dual.port }]);
    assert.deepEqual(await atV4.firstAck(), { host: '127.0.0.1', port: dual.port });
    assert.ok(atDual.sent.openingProbes >= 1);
  } finally {
    atDual.stop();
    atV4.stop();
    await Promise.all([dual.close(), v4.close()]);
  }
});
