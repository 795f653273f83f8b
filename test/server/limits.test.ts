import assert from 'node:assert/strict';
import { test } from 'node:test';
import { limitKey } from '../../src/server/limits/counters.js';
import { MemoryCounters } from '../../src/server/limits/memory-counters.js';
import { sourceKey } from '../../src/server/limits/source.js';

test('the in-memory counters: token buckets refill, windows restart, marks expire', async () => {
  let now = 1_000_000;
  const c = new MemoryCounters(() => now);
  const k = limitKey('bucket', 'alice');
  for (let i = 0; i < 3; i++) assert.equal(await c.take(k, 3, 1), true);
  assert.equal(await c.take(k, 3, 1), false);
  now += 1000;
  assert.equal(await c.take(k, 3, 1), true, 'one token back after a second');
  assert.equal(await c.add('w', 2, 500), 2);
  assert.equal(await c.add('w', 3, 500), 5);
  now += 500;
  assert.equal(await c.add('w', 1, 500), 1, 'a new window');
  await c.mark('m', now + 100);
  assert.equal(await c.markedUntil('m'), now + 100);
  now += 100;
  assert.equal(await c.markedUntil('m'), 0);
});

test('expired entries are swept, so memory follows the active keys, not every key seen', async () => {
  let now = 0;
  const c = new MemoryCounters(() => now);
  for (let i = 0; i < 50_000; i++) {
    await c.add(`k${i}`, 1, 10);
    now += 1;
  }
  assert.ok(c.size < 11_000, `${c.size} entries held`);
});

test('a source is an IPv4 address or an IPv6 /64', () => {
  assert.equal(sourceKey('198.51.100.7'), '198.51.100.7');
  assert.equal(sourceKey('::ffff:198.51.100.7'), '198.51.100.7');
  assert.equal(sourceKey('2001:db8:1:2::1'), sourceKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
  assert.notEqual(sourceKey('2001:db8:1:2::1'), sourceKey('2001:db8:1:3::1'));
  assert.notEqual(limitKey('a', 'b:c'), limitKey('a:b', 'c'));
});
