import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { createUser, makeBuddies, TestClient, withServer } from './helpers.js';

/** After any abuse, a well-behaved pair of buddies is still served. */
async function assertStillServing(server: RunningServer, suffix: string): Promise<void> {
  const a = await createUser(server, `a${suffix}`);
  const b = await createUser(server, `b${suffix}`);
  await makeBuddies(a, b);
  assert.deepEqual(await a.client.ok('sameNat', { buddy: `b${suffix}` }), { same: true });
  await a.client.close();
  await b.client.close();
}

async function nextOrphanReply(client: TestClient) {
  for (let i = 0; i < 200 && client.orphanReplies.length === 0; i++)
    await new Promise((r) => setTimeout(r, 5));
  return client.orphanReplies.shift();
}

test('random bytes and non-JSON get BAD_REQUEST, and the server serves others afterwards', async () => {
  await withServer({}, async (server) => {
    const client = await TestClient.connect(server.urls.ws);
    client.socket.send(randomBytes(512));
    assert.equal((await nextOrphanReply(client))?.error?.code, 'BAD_REQUEST');
    client.socket.send(randomBytes(512).toString('latin1'));
    assert.equal((await nextOrphanReply(client))?.error?.code, 'BAD_REQUEST');
    client.socket.send('{"v":1,"id":');
    assert.equal((await nextOrphanReply(client))?.error?.code, 'BAD_REQUEST');
    client.socket.send('null');
    assert.equal((await nextOrphanReply(client))?.error?.code, 'BAD_REQUEST');
    assert.deepEqual(Object.keys(await client.ok('ping')), ['now'], 'the connection itself still works');
    await assertStillServing(server, '1');
  });
});

test('wrong types, unknown types, extra fields and a wrong version each get a typed error', async () => {
  await withServer({}, async (server) => {
    const client = await TestClient.connect(server.urls.ws);
    assert.equal(await client.failure('logon', { user: 42, password: ['x'] }), 'BAD_REQUEST');
    assert.equal(await client.failure('sameNat', { buddy: { $gt: '' } }), 'BAD_REQUEST');
    assert.equal(await client.failure('no.such.type'), 'BAD_REQUEST');
    assert.equal(await client.failure('ping', { extra: true }), 'BAD_REQUEST');
    assert.equal(
      await client.failure('account.create', { user: 'Alice', password: 'short', publicKey: 'zz' }),
      'BAD_REQUEST',
    );
    client.socket.send(JSON.stringify({ v: 2, id: 99, type: 'ping' }));
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(client.frames.some((f) => f.includes('"id":99') && f.includes('UNSUPPORTED_VERSION')));
    await assertStillServing(server, '2');
  });
});

test('a message over the size limit gets TOO_LARGE; a frame over the hard ceiling closes that connection only', async () => {
  await withServer({}, async (server) => {
    const client = await TestClient.connect(server.urls.ws);
    assert.equal(
      await client.failure('ping', { pad: 'x'.repeat(20_000) }),
      'TOO_LARGE',
      'the reply names the request',
    );
    const bystander = await createUser(server, 'bystander');
    const huge = await TestClient.connect(server.urls.ws);
    huge.socket.send('x'.repeat(1024 * 1024));
    assert.equal(await huge.closed, 1009);
    await bystander.client.settle();
    await assertStillServing(server, '3');
  });
});

test('a flood of requests is RATE_LIMITED and then closed, while another client is served', async () => {
  await withServer({}, async (server) => {
    const bystander = await createUser(server, 'bystander');
    const flooder = await TestClient.connect(server.urls.ws);
    for (let i = 1; i <= 2000 && flooder.socket.readyState === flooder.socket.OPEN; i++) {
      flooder.socket.send(JSON.stringify({ v: 1, id: i, type: 'ping' }));
    }
    assert.equal(await flooder.closed, 1008);
    assert.ok(
      flooder.frames.some((f) => f.includes('RATE_LIMITED')),
      'the flooder was told before it was closed',
    );
    await bystander.client.settle();
    await assertStillServing(server, '4');
    const metrics = await (await fetch(`${server.urls.http}/metrics`)).text();
    assert.match(metrics, /buddylink_errors_total\{code="RATE_LIMITED"\} \d+/);
  });
});

test('requests sent without waiting are answered in order', async () => {
  await withServer({}, async (server) => {
    const client = await TestClient.connect(server.urls.ws);
    const replies = await Promise.all([
      client.request('account.create', {
        user: 'pipelined',
        password: 'a long password',
        publicKey: 'ab'.repeat(32),
      }),
      client.request('buddy.list'),
      client.request('ownAddress'),
    ]);
    assert.deepEqual(
      replies.map((r) => r.ok),
      [true, true, true],
    );
  });
});
