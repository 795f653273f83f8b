import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryOnlineRegistry } from '../../src/store/memory-online.js';

const address = { host: '198.51.100.1', port: 4000 };

function register(registry: MemoryOnlineRegistry, connectionId: string, user: string, device = 'device') {
  return registry.addDevice({
    connectionId,
    user,
    requestedDevice: device,
    listen: false,
    registeredAddress: address,
  });
}

test('a user is online from the first device until the last one leaves', async () => {
  const registry = new MemoryOnlineRegistry();
  assert.equal((await register(registry, 'c1', 'alice')).firstDevice, true);
  assert.equal((await register(registry, 'c2', 'alice')).firstDevice, false);
  assert.equal((await registry.removeDevice('c1'))?.lastDevice, false);
  assert.equal(await registry.isOnline('alice'), true);
  assert.equal((await registry.removeDevice('c2'))?.lastDevice, true);
  assert.equal(await registry.isOnline('alice'), false);
  assert.equal(await registry.removeDevice('c2'), undefined);
});

test('devices come most recent first, with unique names per user', async () => {
  const registry = new MemoryOnlineRegistry();
  await register(registry, 'c1', 'alice', 'laptop');
  await register(registry, 'c2', 'alice', 'laptop');
  await register(registry, 'c3', 'bob', 'laptop');
  const devices = await registry.devicesOf('alice');
  assert.deepEqual(
    devices.map((d) => [d.connectionId, d.device]),
    [
      ['c2', 'laptop-2'],
      ['c1', 'laptop'],
    ],
  );
  assert.equal((await registry.devicesOf('bob'))[0]?.device, 'laptop');
  assert.equal(await registry.deviceCount(), 3);
});
