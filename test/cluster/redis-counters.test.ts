import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisCounters } from '../../src/cluster/redis-counters.js';
import { limitKey } from '../../src/server/limits/counters.js';
import { type TestServices, testServices } from '../store/services.js';

let services: TestServices | string = 'not started';
before(async () => {
  services = await testServices();
});
after(async () => {
  if (typeof services !== 'string') await services.stop();
});

const SECRET = Buffer.from('a secret the nodes share, 32 bytes');

test('limit counters in Redis are shared by the nodes: a bucket, a window and a mark hold across two of them', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const one = new Redis(services.redis);
  const two = new Redis(services.redis);
  try {
    const prefix = `${services.redisPrefix}counters:`;
    const node1 = new RedisCounters(one, prefix, SECRET);
    const node2 = new RedisCounters(two, prefix, SECRET);
    const bucket = limitKey('logon', '198.51.100.7');
    // Three tokens in all, whichever node takes them.
    assert.equal(await node1.take(bucket, 3, 0.001), true);
    assert.equal(await node2.take(bucket, 3, 0.001), true);
    assert.equal(await node1.take(bucket, 3, 0.001), true);
    assert.equal(await node2.take(bucket, 3, 0.001), false, 'the fourth is refused on the other node too');
    // A fast bucket refills.
    const fast = limitKey('fast', 'x');
    assert.equal(await node1.take(fast, 1, 50), true);
    assert.equal(await node2.take(fast, 1, 50), false);
    await sleep(60);
    assert.equal(await node2.take(fast, 1, 50), true, 'refilled after 1/50 s');
    // A window counts on both nodes and restarts after its time.
    const window = limitKey('fail', 'alice');
    assert.equal(await node1.add(window, 2, 200), 2);
    assert.equal(await node2.add(window, 3, 200), 5);
    await sleep(250);
    assert.equal(await node2.add(window, 1, 200), 1, 'a new window');
    // A mark set on one node is seen on the other, until it ends; clear forgets it.
    const until = Date.now() + 60_000;
    await node1.mark(window, until);
    assert.equal(await node2.markedUntil(window), until);
    await node2.clear(window);
    assert.equal(await node1.markedUntil(window), 0);
    // No user name or address in any key or value: keys are HMACs under the shared secret.
    const keys = await one.keys(`${prefix}*`);
    assert.ok(keys.length >= 2, `keys: ${keys.join(', ')}`);
    for (const key of keys) {
      assert.doesNotMatch(key, /198\.51\.100\.7|alice|logon|fail/, key);
      const type = await one.type(key);
      const value = type === 'hash' ? JSON.stringify(await one.hgetall(key)) : String(await one.get(key));
      assert.doesNotMatch(value, /198\.51\.100\.7|alice/, value);
    }
  } finally {
    one.disconnect();
    two.disconnect();
  }
});

test('limit counters refuse (UNAVAILABLE) rather than wave a request through when Redis is away', async () => {
  // A port nothing listens on: the check fails closed.
  const gone = new Redis('redis://127.0.0.1:1', {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await gone.connect().catch(() => {});
    const counters = new RedisCounters(gone, 'test:', SECRET);
    await assert.rejects(counters.take(limitKey('logon', 'x'), 3, 1), { code: 'UNAVAILABLE' });
  } finally {
    gone.disconnect();
  }
});
