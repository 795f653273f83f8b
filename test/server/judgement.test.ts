import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUser, makeBuddies, TestClient, withServer } from './helpers.js';

/** Judges buddies connected from two source addresses (Linux routes all of 127/8 to loopback). */
async function judge(options: { v4Prefix?: number }, from: string, to: string): Promise<boolean> {
  let same = false;
  await withServer(options, async (server) => {
    const alice = await createUser(server, 'alice', { localAddress: from });
    const bob = await createUser(server, 'bob', { localAddress: to });
    await makeBuddies(alice, bob);
    const result = await alice.client.ok('sameNat', { buddy: 'bob' });
    assert.deepEqual(Object.keys(result), ['same'], 'the answer is one bit and nothing else (S24)');
    assert.deepEqual(
      await bob.client.ok('sameNat', { buddy: 'alice' }),
      result,
      'the judgement is symmetric',
    );
    same = result.same as boolean;
  });
  return same;
}

test('with the default /32, only the very same address is the same NAT', async () => {
  assert.equal(await judge({}, '127.0.0.2', '127.0.0.2'), true);
  assert.equal(await judge({}, '127.0.0.2', '127.0.0.3'), false);
});

test('with a /24 mask, a NAT pool of neighbouring addresses counts as one NAT (§0067)', async () => {
  assert.equal(await judge({ v4Prefix: 24 }, '127.0.0.2', '127.0.0.3'), true);
  assert.equal(await judge({ v4Prefix: 24 }, '127.0.0.2', '127.0.1.2'), false);
});

test('two IPv6 clients on ::1 are judged the same', async () => {
  await withServer({ host: '::1' }, async (server) => {
    assert.match(server.urls.ws, /^ws:\/\/\[::1\]:\d+$/);
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    assert.deepEqual(await alice.client.ok('sameNat', { buddy: 'bob' }), { same: true });
    assert.deepEqual(await alice.client.ok('ownAddress'), {
      address: { host: '::1', port: localPort(alice.client) },
    });
  });
});

function localPort(client: TestClient): number {
  return (client.socket as unknown as { _socket: { localPort: number } })._socket.localPort;
}

test('ownAddress is the source address and port the server saw (S141-S143)', async () => {
  await withServer({}, async (server) => {
    const client = await TestClient.connect(server.urls.ws, { localAddress: '127.0.0.7' });
    assert.deepEqual(await client.ok('ownAddress'), {
      address: { host: '127.0.0.7', port: localPort(client) },
    });
  });
});

test('registeredAddress is FORBIDDEN by default and gives the buddy address when revealed (S204)', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice', { localAddress: '127.0.0.2' });
    const bob = await createUser(server, 'bob', { localAddress: '127.0.0.3' });
    await makeBuddies(alice, bob);
    assert.equal(await alice.client.failure('registeredAddress', { buddy: 'bob' }), 'FORBIDDEN');
  });
  await withServer({ revealAddresses: true }, async (server) => {
    const alice = await createUser(server, 'alice', { localAddress: '127.0.0.2' });
    const bob = await createUser(server, 'bob', { localAddress: '127.0.0.3' });
    await makeBuddies(alice, bob);
    assert.deepEqual(await alice.client.ok('registeredAddress', { buddy: 'bob' }), {
      address: { host: '127.0.0.3', port: localPort(bob.client) },
    });
  });
});

test('X-Forwarded-For is believed from a trusted proxy only', async () => {
  await withServer({ trustProxy: ['127.0.0.5/32'] }, async (server) => {
    const headers = { 'x-forwarded-for': '192.0.2.99, 198.51.100.7' };
    const viaProxy = await TestClient.connect(server.urls.ws, { localAddress: '127.0.0.5', headers });
    const viaProxyResult = await viaProxy.ok('ownAddress');
    assert.equal((viaProxyResult.address as { host: string }).host, '198.51.100.7');
    const forger = await TestClient.connect(server.urls.ws, { localAddress: '127.0.0.6', headers });
    assert.deepEqual(await forger.ok('ownAddress'), {
      address: { host: '127.0.0.6', port: localPort(forger) },
    });
  });
});

test('behind a trusted proxy, two clients forwarded from one public address are the same NAT', async () => {
  await withServer({ trustProxy: ['127.0.0.5'] }, async (server) => {
    const headers = { 'x-forwarded-for': '203.0.113.44' };
    const alice = await createUser(server, 'alice', { localAddress: '127.0.0.5', headers });
    const bob = await createUser(server, 'bob', {
      localAddress: '127.0.0.5',
      headers: { 'x-forwarded-for': '203.0.113.45' },
    });
    const carol = await createUser(server, 'carol', { localAddress: '127.0.0.5', headers });
    await makeBuddies(alice, bob);
    await makeBuddies(alice, carol);
    assert.deepEqual(await alice.client.ok('sameNat', { buddy: 'bob' }), { same: false });
    assert.deepEqual(await alice.client.ok('sameNat', { buddy: 'carol' }), { same: true });
  });
});

test('on the dual-stack default host an IPv4 client is registered by its IPv4 address', async () => {
  await withServer({ host: '::' }, async (server) => {
    assert.match(server.urls.ws, /^ws:\/\/127\.0\.0\.1:\d+$/, 'the printed URL is usable');
    const v4 = await TestClient.connect(server.urls.ws, { localAddress: '127.0.0.8' });
    assert.deepEqual(await v4.ok('ownAddress'), { address: { host: '127.0.0.8', port: localPort(v4) } });
    const v6 = await TestClient.connect(`ws://[::1]:${server.ws.port}`);
    assert.equal(((await v6.ok('ownAddress')).address as { host: string }).host, '::1');
  });
});
