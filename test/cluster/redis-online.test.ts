import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisOnlineRegistry } from '../../src/cluster/redis-online.js';
import { type TestServices, testServices } from '../store/services.js';

let services: TestServices | string = 'not started';
before(async () => {
  services = await testServices();
});
after(async () => {
  if (typeof services !== 'string') await services.stop();
});

const ADDRESS = { host: '203.0.113.5', port: 40000 };
const OTHER_NAT = { host: '198.51.100.9', port: 40000 };

interface TestNode {
  registry: RedisOnlineRegistry;
  redis: Redis;
  subscriber: Redis;
  /** Whether the node hears the online channel; false makes it read Redis every time. */
  hearing: { on: boolean };
  close(): void;
}

/** A registry wired as src/cluster/node.ts wires it: commands, and the online channel's changes. */
async function node(url: string, prefix: string, nodeId: string, ttlMs = 3000): Promise<TestNode> {
  const redis = new Redis(url);
  const subscriber = new Redis(url);
  const hearing = { on: true };
  const registry = new RedisOnlineRegistry({
    redis,
    prefix,
    nodeId,
    ttlMs,
    tagOf: (a) => `tag-${a.host}`,
    changesArrive: () => hearing.on,
  });
  subscriber.on('message', (channel: string, text: string) => {
    if (channel === registry.channel) registry.changed(text.split('\n'));
  });
  await subscriber.subscribe(registry.channel);
  await registry.forgetPreviousLife();
  await registry.heartbeat();
  return {
    registry,
    redis,
    subscriber,
    hearing,
    close() {
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}

function register(user: string, connectionId: string, device = 'laptop', address = ADDRESS) {
  return { connectionId, user, requestedDevice: device, listen: false, registeredAddress: address };
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)}`);
    await sleep(10);
  }
}

test('a device on one node is seen on another with its tag and no address; first and last device are decided once', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const prefix = `${services.redisPrefix}online1:`;
  const a = await node(services.redis, prefix, 'a');
  const b = await node(services.redis, prefix, 'b');
  try {
    assert.deepEqual(await b.registry.devicesOf('alice'), [], 'nobody yet (and now cached as nobody)');
    const first = await a.registry.addDevice(register('alice', 'c1'));
    assert.equal(first.firstDevice, true);
    // B cached "no device": the change published by A's script must void it.
    const seen = await eventually(
      () => b.registry.devicesOf('alice'),
      (d) => d.length === 1,
      'alice on node b',
    );
    assert.equal(seen[0]?.registeredAddress, undefined, 'the address stays on node a');
    assert.equal((seen[0] as { natTag?: string }).natTag, 'tag-203.0.113.5');
    assert.equal((seen[0] as { node?: string }).node, 'a');
    assert.deepEqual(
      (await a.registry.devicesOf('alice'))[0]?.registeredAddress,
      ADDRESS,
      'its own node has it',
    );

    // A second device of the same name on the other node gets a name of its own, and is not first.
    const second = await b.registry.addDevice(register('alice', 'c2', 'laptop', OTHER_NAT));
    assert.equal(second.firstDevice, false);
    assert.equal(second.device.device, 'laptop-2');
    const both = await eventually(
      () => a.registry.devicesOf('alice'),
      (d) => d.length === 2,
      'both devices on node a',
    );
    assert.deepEqual(
      both.map((d) => d.device),
      ['laptop-2', 'laptop'],
      'most recent logon first',
    );

    assert.equal((await a.registry.removeDevice('c1'))?.lastDevice, false);
    assert.equal((await b.registry.removeDevice('c2'))?.lastDevice, true);
    await eventually(
      () => a.registry.devicesOf('alice'),
      (d) => d.length === 0,
      'alice offline on node a',
    );
    assert.equal(await b.registry.removeDevice('c2'), undefined, 'removing twice is a no-op');
  } finally {
    a.close();
    b.close();
  }
});

test('a node whose heartbeat stops is reaped with all its devices at once; the users are offline once', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const prefix = `${services.redisPrefix}online2:`;
  const dying = await node(services.redis, prefix, 'dying', 300);
  const live = await node(services.redis, prefix, 'live', 300);
  try {
    for (let i = 0; i < 50; i++) await dying.registry.addDevice(register(`u${i}`, `d${i}`));
    // u0 has a second device on the live node: not offline when the other node dies.
    await live.registry.addDevice(register('u0', 'l0'));
    assert.equal((await live.registry.devicesOf('u7')).length, 1);
    // `dying` stops its heartbeat; `live` goes on, and reaps once the TTL ran out.
    await sleep(150);
    await live.registry.heartbeat();
    assert.deepEqual(await live.registry.reap(), [], 'nothing to reap before the TTL');
    await sleep(250);
    await live.registry.heartbeat();
    const gone = await live.registry.reap();
    assert.equal(gone.length, 49, 'every user of the dead node but u0');
    assert.ok(!gone.includes('u0'));
    assert.deepEqual(await live.registry.reap(), [], 'reaped once: nobody is announced twice');
    assert.equal((await live.registry.devicesOf('u7')).length, 0);
    assert.deepEqual(
      (await live.registry.devicesOf('u0')).map((d) => d.connectionId),
      ['l0'],
    );
  } finally {
    dying.close();
    live.close();
  }
});

test('a dead node looks offline even before it is reaped, whatever the reader cached', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const prefix = `${services.redisPrefix}online3:`;
  const dying = await node(services.redis, prefix, 'dying', 300);
  const reader = await node(services.redis, prefix, 'reader', 300);
  try {
    await dying.registry.addDevice(register('bob', 'b1'));
    assert.equal((await reader.registry.devicesOf('bob')).length, 1, 'read and cached');
    await sleep(400);
    assert.equal((await reader.registry.devicesOf('bob')).length, 0, 'its node stopped: not live');
  } finally {
    dying.close();
    reader.close();
  }
});

test('entries that Redis lost come back at the next heartbeat, and their users are named for "online" again', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const prefix = `${services.redisPrefix}online4:`;
  const a = await node(services.redis, prefix, 'a');
  const b = await node(services.redis, prefix, 'b');
  try {
    await a.registry.addDevice(register('carol', 'c1'));
    await a.registry.addDevice(register('dave', 'd1'));
    // A Redis restarted empty: every key of the deployment is gone.
    const keys = await a.redis.keys(`${prefix}*`);
    await a.redis.del(...keys);
    assert.deepEqual(await b.registry.reap(), []);
    const back = await a.registry.heartbeat();
    assert.deepEqual(back.sort(), ['carol', 'dave']);
    await eventually(
      () => b.registry.devicesOf('carol'),
      (d) => d.length === 1,
      'carol back on node b',
    );
    assert.deepEqual(await a.registry.heartbeat(), [], 'once only');
  } finally {
    a.close();
    b.close();
  }
});

test('a node started again under the same id does not keep its previous life online', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const prefix = `${services.redisPrefix}online5:`;
  const first = await node(services.redis, prefix, 'n1');
  const reader = await node(services.redis, prefix, 'reader');
  try {
    await first.registry.addDevice(register('erin', 'e1'));
    first.close();
    const again = await node(services.redis, prefix, 'n1');
    again.close();
    assert.equal((await reader.registry.devicesOf('erin')).length, 0);
  } finally {
    reader.close();
  }
});

test('while the online channel is not heard, every read goes to Redis', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const prefix = `${services.redisPrefix}online6:`;
  const a = await node(services.redis, prefix, 'a');
  const deaf = await node(services.redis, prefix, 'deaf');
  try {
    deaf.hearing.on = false;
    await deaf.subscriber.unsubscribe();
    assert.equal((await deaf.registry.devicesOf('frank')).length, 0);
    await a.registry.addDevice(register('frank', 'f1'));
    // No message can reach `deaf`: only a read that skips the cache sees frank.
    assert.equal((await deaf.registry.devicesOf('frank')).length, 1);
    assert.equal(deaf.registry.cachedUsers, 0);
  } finally {
    a.close();
    deaf.close();
  }
});
