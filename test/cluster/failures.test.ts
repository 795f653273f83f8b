import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../../src/client/index.js';
import { PASSWORD, tempDir } from '../client/helpers.js';
import { createUser, makeBuddies, randomSessionId, TestClient } from '../server/helpers.js';
import { type TestServices, testServices } from '../store/services.js';
import { CuttableLink, RedisProcess } from './cuttable.js';
import { healthOf, type NodeProcess, spawnNode, stopNode } from './nodes.js';

let services: TestServices | string = 'not started';
const started: NodeProcess[] = [];

before(async () => {
  services = await testServices();
});
after(async () => {
  await Promise.all(started.map((n) => stopNode(n, 'SIGKILL')));
  if (typeof services !== 'string') await services.stop();
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  return typeof address === 'object' && address ? address.port : 0;
}

/** Polls until `check` holds; bounded in time, for a loaded machine. */
async function eventually(what: string, check: () => Promise<boolean>, withinMs = 15_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms: ${what}`);
    await sleep(100);
  }
}

const TTL_SECONDS = 2;

test('node 2 killed with SIGKILL: bob is offline for alice within the TTL, then online again on node 3', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const s = services;
  const [n1, n2, n3] = await Promise.all(
    ['k1', 'k2', 'k3'].map((id) => spawnNode(s, id, { onlineTtlSeconds: TTL_SECONDS }, started)),
  );
  if (!n1 || !n2 || !n3) throw new Error('nodes');
  const alice = await createUser({ urls: n1.urls }, 'alice-k');
  // Bob runs the real client, given two nodes: it logs on to the first and moves to the next on loss.
  const bob = await Client.createAccount({
    server: `${n2.urls.ws}, ${n3.urls.ws}`,
    stun: n2.urls.stun,
    user: 'bob-k',
    password: PASSWORD,
    home: await tempDir(),
    // It waits longer than the TTL before moving, so that alice sees it go offline first.
    liveness: { reconnectBaseMs: TTL_SECONDS * 1000 + 4000, reconnectMaxMs: 10_000 },
  });
  t.after(() => bob.close());
  await alice.client.ok('buddy.request', { user: 'bob-k' });
  await bob.acceptBuddy('alice-k');
  const reconnected = once(bob, 'reconnect');
  const killedAt = Date.now();
  await stopNode(n2, 'SIGKILL');
  await alice.client.waitForEvent(
    (e) => e.event === 'presence' && e.user === 'bob-k' && e.online === false,
    TTL_SECONDS * 1000 + 3500,
  );
  const offlineAfterMs = Date.now() - killedAt;
  // The TTL plus one reaper round (a third of it), with slack for a loaded machine.
  assert.ok(offlineAfterMs < TTL_SECONDS * 1000 + 3500, `offline after ${offlineAfterMs} ms`);
  assert.equal(await alice.client.failure('sameNat', { buddy: 'bob-k' }), 'BUDDY_OFFLINE');
  // Bob's client came back on node 3 by itself, with its kept token.
  await Promise.race([
    reconnected,
    sleep(15_000, undefined, { ref: false }).then(() => Promise.reject(new Error('no reconnect'))),
  ]);
  await alice.client.waitForEvent(
    (e) =>
      e.event === 'presence' && e.user === 'bob-k' && e.online === true && alice.client.events.indexOf(e) > 1,
  );
  assert.deepEqual(await alice.client.ok('sameNat', { buddy: 'bob-k' }), { same: true });
  assert.equal(await bob.sameNat('alice-k'), true);
  await alice.client.close();
});

test('Redis restarted: the nodes report it, refuse with UNAVAILABLE, and recover by themselves', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const s = services;
  const redis = new RedisProcess(await freePort());
  await redis.start();
  try {
    const [n1, n2] = await Promise.all(
      ['r1', 'r2'].map((id) =>
        spawnNode(s, id, { redis: redis.url, onlineTtlSeconds: TTL_SECONDS }, started),
      ),
    );
    if (!n1 || !n2) throw new Error('nodes');
    const alice = await createUser({ urls: n1.urls }, 'alice-r');
    const bob = await createUser({ urls: n2.urls }, 'bob-r');
    await makeBuddies(alice, bob);
    await redis.kill();
    await eventually('node 1 reports Redis down', async () => (await healthOf(n1)).body.redis === 'down');
    assert.equal((await healthOf(n1)).status, 503);
    assert.equal(await alice.client.failure('sameNat', { buddy: 'bob-r' }), 'UNAVAILABLE');
    // Redis comes back empty (no persistence): each node writes its own entries again.
    await redis.start();
    await eventually('both nodes healthy', async () => {
      const [h1, h2] = await Promise.all([healthOf(n1), healthOf(n2)]);
      return h1.status === 200 && h2.status === 200;
    });
    await eventually('judgement across nodes again', async () => {
      const reply = await alice.client.request('sameNat', { buddy: 'bob-r' });
      return reply.ok && reply.result?.same === true;
    });
    const body = { session: randomSessionId(), purpose: 'offer', scope: 'global', addresses: [] };
    await alice.client.ok('signal', { to: 'bob-r', body });
    await bob.client.waitForEvent((e) => e.event === 'signal' && e.from === 'alice-r');
    await Promise.all([alice.client.close(), bob.client.close()]);
  } finally {
    await redis.kill();
  }
});

test('PostgreSQL cut off: the node reports it, refuses a logon with UNAVAILABLE, and recovers', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const pgUrl = new URL(services.postgres);
  const link = await CuttableLink.open(Number(pgUrl.port));
  try {
    pgUrl.port = String(link.port);
    const node = await spawnNode({ ...services, postgres: pgUrl.toString() }, 'p1', {}, started);
    const alice = await createUser({ urls: node.urls }, 'alice-p');
    link.cut();
    await eventually(
      'the node reports PostgreSQL down',
      async () => (await healthOf(node)).body.store === 'down',
    );
    const client = await TestClient.connect(node.urls.ws);
    assert.equal(await client.failure('logon', { user: 'alice-p', token: alice.token }), 'UNAVAILABLE');
    link.restore();
    await eventually('the node reports PostgreSQL up', async () => (await healthOf(node)).status === 200);
    await client.ok('logon', { user: 'alice-p', token: alice.token });
    await Promise.all([alice.client.close(), client.close()]);
  } finally {
    await link.close();
  }
});
