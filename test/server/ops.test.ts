import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { createUser, makeBuddies, TestClient, withServer } from './helpers.js';

test('/healthz answers ok while serving', async () => {
  await withServer({}, async (server) => {
    const res = await fetch(`${server.urls.http}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
    assert.equal((await fetch(`${server.urls.http}/nothing`)).status, 404);
  });
});

/** A minimal RFC 8489 Binding request: type 0x0001, length 0, magic cookie, 12-byte transaction id. */
function bindingRequest(): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt32BE(0x2112a442, 4);
  for (let i = 8; i < 20; i++) b[i] = i;
  return b;
}

test('/metrics counts connections, logons, judgements, STUN requests and errors by code', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    await alice.client.ok('sameNat', { buddy: 'bob' });
    await alice.client.failure('sameNat', { buddy: 'nobody' });
    const udp = createSocket('udp4');
    const answered = new Promise((resolve) => udp.once('message', resolve));
    udp.send(bindingRequest(), server.stun.port, '127.0.0.1');
    udp.send(Buffer.from('not stun at all'), server.stun.port, '127.0.0.1');
    await answered;
    udp.close();
    await new Promise((r) => setTimeout(r, 50));
    const text = await (await fetch(`${server.urls.http}/metrics`)).text();
    assert.match(text, /buddylink_control_connections 2/);
    assert.match(text, /buddylink_logons_total\{outcome="ok"\} 2/);
    assert.match(text, /buddylink_judgements_total\{same="true"\} 1/);
    assert.match(text, /buddylink_errors_total\{code="NOT_BUDDY"\} 1/);
    assert.match(text, /buddylink_stun_requests_total\{outcome="answered"\} 1/);
    assert.match(text, /buddylink_stun_requests_total\{outcome="dropped"\} 1/);
    assert.match(text, /buddylink_relayed_bytes_total 0/);
  });
});

test('shutdown tells clients, closes their sockets and /healthz stops', async () => {
  await withServer({}, async (server) => {
    const client = await TestClient.connect(server.urls.ws);
    const closed = client.closed;
    await server.close();
    assert.equal(await closed, 1001);
    assert.deepEqual(client.events, [{ v: 1, event: 'shutdown', reason: 'server shutting down' }]);
    await assert.rejects(fetch(`${server.urls.http}/healthz`));
  });
});
