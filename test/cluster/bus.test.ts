import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ClusterBus } from '../../src/cluster/bus.js';
import { type TestServices, testServices } from '../store/services.js';

let services: TestServices | string = 'not started';
before(async () => {
  services = await testServices();
});
after(async () => {
  if (typeof services !== 'string') await services.stop();
});

test('the bus drops what does not parse and passes on only what does', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const publisher = new Redis(services.redis);
  const subscriber = new Redis(services.redis);
  const raw = new Redis(services.redis);
  try {
    const bus = new ClusterBus({ publisher, subscriber, prefix: services.redisPrefix, nodeId: 'b1' });
    const delivered: unknown[] = [];
    const relations: string[] = [];
    await bus.start({
      deliver: (connectionId, event) => delivered.push({ connectionId, event }),
      relationChanged: (a, b) => relations.push(`${a}+${b}`),
    });
    const channel = `${services.redisPrefix}node:b1`;
    for (const bad of [
      'not json',
      '{"kind":"deliver"}',
      JSON.stringify({
        kind: 'deliver',
        connectionId: 'c',
        event: { v: 1, event: 'presence', user: 'A B', online: true },
      }),
      JSON.stringify({ kind: 'relation', a: 'x', b: 'y', extra: 1 }),
      JSON.stringify({ kind: 'shell', command: 'rm -rf /' }),
    ])
      await raw.publish(channel, bad);
    await bus.deliver('b1', 'c1', { event: 'presence', user: 'alice', online: true });
    await bus.relationChanged('alice', 'bob');
    for (let i = 0; i < 50 && relations.length === 0; i++) await sleep(20);
    assert.deepEqual(delivered, [
      { connectionId: 'c1', event: { event: 'presence', user: 'alice', online: true } },
    ]);
    assert.deepEqual(relations, ['alice+bob']);
    assert.equal(bus.dropped, 5);
  } finally {
    for (const r of [publisher, subscriber, raw]) r.disconnect();
  }
});
