import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  createUser,
  logOnDevice,
  makeBuddies,
  randomSessionId,
  TEST_PASSWORD,
  TestClient,
} from '../server/helpers.js';
import { type TestServices, testServices } from '../store/services.js';
import { healthOf, type NodeProcess, spawnNode, stopNode } from './nodes.js';
import { addressForms, dumpPostgres, dumpRedis } from './shared-state.js';

let services: TestServices | string = 'not started';
const nodes: NodeProcess[] = [];

before(async () => {
  services = await testServices();
  if (typeof services === 'string') return;
  const s = services;
  // Each node joins `nodes` once it listens, so after() stops it even when another failed to start.
  await Promise.all(['n1', 'n2', 'n3'].map((id) => spawnNode(s, id, {}, nodes)));
});
after(async () => {
  await Promise.all(nodes.map((n) => stopNode(n)));
  if (typeof services !== 'string') await services.stop();
});

function node(i: number): NodeProcess {
  const n = nodes[i];
  if (!n) throw new Error('nodes not started');
  return n;
}

test('buddies on two nodes see each other online and get the right judgement', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const [n1, n2] = [node(0), node(1)];
  const alice = await createUser({ urls: n1.urls }, 'alice1', { localAddress: '127.0.0.77' });
  const bob = await createUser({ urls: n2.urls }, 'bob1', { localAddress: '127.0.0.88' });
  await makeBuddies(alice, bob);
  await alice.client.waitForEvent((e) => e.event === 'buddy.accepted' && e.user === 'bob1');
  // Different addresses (/32): not the same NAT, from either side.
  assert.deepEqual(await alice.client.ok('sameNat', { buddy: 'bob1' }), { same: false });
  assert.deepEqual(await bob.client.ok('sameNat', { buddy: 'alice1' }), { same: false });
  // Bob's second device, behind alice's address, logged on to node 2: now the same NAT.
  const bob2 = await createUser({ urls: n2.urls }, 'bob1b', { localAddress: '127.0.0.77' });
  await makeBuddies(alice, { ...bob2, user: 'bob1b' });
  assert.deepEqual(await alice.client.ok('sameNat', { buddy: 'bob1b' }), { same: true });
  assert.deepEqual(await bob2.client.ok('sameNat', { buddy: 'alice1' }), { same: true });
  // Presence crosses nodes: bob leaves node 2, alice on node 1 hears it.
  await bob.client.close();
  await alice.client.waitForEvent((e) => e.event === 'presence' && e.user === 'bob1' && e.online === false);
  assert.equal(await alice.client.failure('sameNat', { buddy: 'bob1' }), 'BUDDY_OFFLINE');
  await Promise.all([alice.client.close(), bob2.client.close()]);
});

test('a signal crosses nodes and the answer returns; a stranger on a third node learns nothing', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const [n1, n2, n3] = [node(0), node(1), node(2)];
  const alice = await createUser({ urls: n1.urls }, 'alice2');
  const bob = await createUser({ urls: n2.urls }, 'bob2');
  const mallory = await createUser({ urls: n3.urls }, 'mallory2');
  await makeBuddies(alice, bob);
  const session = randomSessionId();
  const offer = {
    session,
    purpose: 'offer',
    scope: 'global',
    addresses: [{ host: '192.0.2.1', port: 4000 }],
  };
  assert.deepEqual(await alice.client.ok('signal', { to: 'bob2', body: offer }), { delivered: true });
  const got = await bob.client.waitForEvent((e) => e.event === 'signal' && e.from === 'alice2');
  assert.deepEqual(got.body, offer);
  const answer = { ...offer, purpose: 'answer', addresses: [{ host: '198.51.100.1', port: 5000 }] };
  await bob.client.ok('signal', { to: 'alice2', body: answer });
  await alice.client.waitForEvent((e) => e.event === 'signal' && e.from === 'bob2');
  // Mallory asks about both and tries to signal them: the same NOT_BUDDY as for a stranger on one node.
  assert.equal(await mallory.client.failure('sameNat', { buddy: 'alice2' }), 'NOT_BUDDY');
  assert.equal(await mallory.client.failure('signal', { to: 'bob2', body: offer }), 'NOT_BUDDY');
  await mallory.client.settle();
  assert.deepEqual(
    mallory.client.events.map((e) => e.event),
    [],
  );
  await Promise.all([alice.client.close(), bob.client.close(), mallory.client.close()]);
});

test('a relation removed on node 1 stops signals at once on node 2', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const [n1, n2] = [node(0), node(1)];
  const alice = await createUser({ urls: n1.urls }, 'alice3');
  const bob = await createUser({ urls: n2.urls }, 'bob3');
  await makeBuddies(alice, bob);
  const body = { session: randomSessionId(), purpose: 'offer', scope: 'global', addresses: [] };
  // Bob's node has cached the accepted relation by now (consent is checked on every signal).
  for (let i = 0; i < 3; i++) await bob.client.ok('signal', { to: 'alice3', body });
  await alice.client.ok('buddy.remove', { user: 'bob3' });
  assert.equal(await bob.client.failure('signal', { to: 'alice3', body }), 'NOT_BUDDY');
  assert.equal(await bob.client.failure('sameNat', { buddy: 'alice3' }), 'NOT_BUDDY');
  await Promise.all([alice.client.close(), bob.client.close()]);
});

test('every node reports PostgreSQL and Redis healthy, with its node id, and its per-node gauges', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  for (const n of nodes) {
    const health = await healthOf(n);
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok', ok: true, node: n.nodeId, store: 'ok', redis: 'ok' });
    const metrics = await (await fetch(`${n.urls.http}/metrics`)).text();
    assert.match(metrics, new RegExp(`^buddylink_cluster_redis_up\\{node="${n.nodeId}"\\} 1$`, 'm'));
    assert.match(metrics, new RegExp(`^buddylink_node_devices_online\\{node="${n.nodeId}"\\} \\d+$`, 'm'));
  }
});

test('no client address is in Redis or PostgreSQL while buddies on two nodes are online', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const [n1, n2] = [node(0), node(1)];
  const alice = await createUser({ urls: n1.urls }, 'alice5', { localAddress: '127.0.0.77' });
  const bob = await createUser({ urls: n2.urls }, 'bob5', { localAddress: '127.0.0.88' });
  await makeBuddies(alice, bob);
  assert.deepEqual(await alice.client.ok('sameNat', { buddy: 'bob5' }), { same: false });
  const body = { session: randomSessionId(), purpose: 'offer', scope: 'global', addresses: [] };
  await alice.client.ok('signal', { to: 'bob5', body });
  const redis = await dumpRedis(services.redis);
  const rows = await dumpPostgres(services.postgres);
  // The scan sees the state it claims to scan: both users' entries and accounts.
  assert.ok(redis.some((v) => v.includes('alice5')) && redis.some((v) => v.includes('bob5')));
  assert.ok(rows.some((r) => r.includes('alice5')) && rows.some((r) => r.includes('bob5')));
  for (const form of [...addressForms('127.0.0.77'), ...addressForms('127.0.0.88')]) {
    assert.deepEqual(
      redis.filter((v) => v.includes(form)),
      [],
      `Redis holds ${form}`,
    );
    assert.deepEqual(
      rows.filter((r) => r.includes(form)),
      [],
      `PostgreSQL holds ${form}`,
    );
  }
  await Promise.all([alice.client.close(), bob.client.close()]);
});

test('two devices of one user with one name on two nodes get distinct names', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const [n1, n2] = [node(0), node(1)];
  const dora = await createUser({ urls: n1.urls }, 'dora6', { device: 'laptop' });
  const second = await TestClient.connect(n2.urls.ws);
  const logon = await second.ok('logon', { user: 'dora6', password: TEST_PASSWORD, device: 'laptop' });
  assert.equal(dora.device, 'laptop');
  assert.equal(logon.device, 'laptop-2');
  await Promise.all([dora.client.close(), second.close()]);
});

test("the variant across nodes: the buddy's node reveals the address, only when its operator switched it on", async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const s = services;
  const extra: NodeProcess[] = [];
  try {
    const [r1, r2] = await Promise.all(
      ['v1', 'v2'].map((id) => spawnNode(s, id, { extra: ['--reveal-addresses'] }, extra)),
    );
    if (!r1 || !r2) throw new Error('nodes');
    const alice = await createUser({ urls: r1.urls }, 'alice7', { localAddress: '127.0.0.77' });
    const bob = await createUser({ urls: r2.urls }, 'bob7', { localAddress: '127.0.0.88' });
    await makeBuddies(alice, bob);
    const { address } = await alice.client.ok('registeredAddress', { buddy: 'bob7' });
    assert.equal((address as { host: string }).host, '127.0.0.88');
    // A node without the variant refuses, as one server does.
    const carol = await createUser({ urls: node(0).urls }, 'carol7');
    await makeBuddies(carol, bob);
    assert.equal(await carol.client.failure('registeredAddress', { buddy: 'bob7' }), 'FORBIDDEN');
    // A buddy on a node without the variant: that node keeps the address to itself.
    const dave = await createUser({ urls: node(1).urls }, 'dave7', { localAddress: '127.0.0.99' });
    await makeBuddies(alice, dave);
    assert.equal(await alice.client.failure('registeredAddress', { buddy: 'dave7' }), 'UNAVAILABLE');
    assert.ok(!alice.client.frames.some((f) => f.includes('127.0.0.99')));
    await Promise.all([alice.client.close(), bob.client.close(), carol.client.close(), dave.client.close()]);
  } finally {
    await Promise.all(extra.map((n) => stopNode(n)));
  }
});

test('password guessing spread over two nodes meets one per-account limit, not one per node', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const [n1, n2] = [node(0), node(1)];
  const victim = await createUser({ urls: n1.urls }, 'victim5');
  await victim.client.close();
  const guessers = [
    await TestClient.connect(n1.urls.ws, { localAddress: '127.0.0.2' }),
    await TestClient.connect(n2.urls.ws, { localAddress: '127.0.0.3' }),
  ];
  const outcomes: string[] = [];
  // The default: five failed logons per account, then back-off. Alternating nodes, so that counters
  // kept per node would have allowed ten.
  for (let i = 0; i < 8; i++) {
    const guesser = guessers[i % 2] as TestClient;
    outcomes.push(await guesser.failure('logon', { user: 'victim5', password: `guess number ${i}` }));
  }
  assert.deepEqual(outcomes.slice(0, 5), Array(5).fill('AUTH_FAILED'), outcomes.join(' '));
  assert.deepEqual(outcomes.slice(5), Array(3).fill('RATE_LIMITED'), outcomes.join(' '));
  await Promise.all(guessers.map((g) => g.close()));
});

test('a session revoked on one node ends at once on the node that holds it', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const [n1, n2, n3] = [node(0), node(1), node(2)];
  const laptop = await createUser({ urls: n1.urls }, 'alice6');
  const phone = await logOnDevice({ urls: n2.urls }, 'alice6', { device: 'phone' });
  const tablet = await logOnDevice({ urls: n3.urls }, 'alice6', { device: 'tablet' });
  assert.deepEqual(await laptop.client.ok('account.revoke', { device: 'phone' }), { revoked: 1 });
  assert.equal(await phone.closed, 4001, 'the phone on node 2 is cut');
  assert.ok(phone.events.some((e) => e.event === 'session.ended'));
  assert.deepEqual(Object.keys(await tablet.ok('ping')), ['now'], 'the tablet on node 3 is not');
  assert.deepEqual(await laptop.client.ok('account.revoke', { all: true }), { revoked: 1 });
  assert.equal(await tablet.closed, 4001, 'then the tablet on node 3');
  await laptop.client.close();
});
