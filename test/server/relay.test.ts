import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createUser, makeBuddies, randomSessionId, withServer } from './helpers.js';
import { joinRelay, openPair, waitFor } from './relay-helpers.js';

test('the relay pairs two buddies and forwards binary frames verbatim both ways', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    const { sa, sb } = await openPair(server, alice, bob);
    const one = randomBytes(1000);
    const two = randomBytes(70_000);
    sa.socket.send(one);
    sb.socket.send(two);
    await waitFor(() => sb.received.length === 1 && sa.received.length === 1, 'both frames arrive');
    assert.deepEqual(sb.received[0], one);
    assert.deepEqual(sa.received[0], two);
    const metrics = await (await fetch(`${server.urls.http}/metrics`)).text();
    assert.match(metrics, /buddylink_relayed_bytes_total 71000/);
  });
});

test('the relay refuses a non-buddy, and an unknown ticket gets no socket', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice');
    await createUser(server, 'bob');
    assert.equal(
      await alice.client.failure('relay.open', { buddy: 'bob', session: randomSessionId() }),
      'NOT_BUDDY',
    );
    await assert.rejects(joinRelay(server, `/relay/${randomBytes(32).toString('base64url')}`), /404/);
  });
});

test('with --no-relay, relay.open is FORBIDDEN', async () => {
  await withServer({ relay: false }, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    assert.equal(
      await alice.client.failure('relay.open', { buddy: 'bob', session: randomSessionId() }),
      'FORBIDDEN',
    );
  });
});

test('a relay session that reaches its byte cap is closed with RELAY_LIMIT', async () => {
  await withServer({ relayMaxBytes: 10_000 }, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    const { sa, sb } = await openPair(server, alice, bob);
    sa.socket.send(randomBytes(6000));
    await waitFor(() => sb.received.length === 1, 'the first frame passes');
    sa.socket.send(randomBytes(6000));
    const [ca, cb] = await Promise.all([sa.closed, sb.closed]);
    assert.equal(ca.code, 4008);
    assert.match(ca.reason, /^RELAY_LIMIT/);
    assert.equal(cb.code, 4008);
    assert.equal(sb.received.length, 1, 'the frame over the cap was not forwarded');
  });
});

test('the relay rate limit delays but does not drop', async () => {
  await withServer({ relayBytesPerSecond: 100_000 }, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    const { sa, sb } = await openPair(server, alice, bob);
    const started = performance.now();
    for (let i = 0; i < 10; i++) sa.socket.send(randomBytes(25_000));
    await waitFor(() => sb.received.length === 10, 'all frames arrive');
    const elapsed = performance.now() - started;
    // 250 kB at 100 kB/s with a 100 kB burst: at least ~1.5 s.
    assert.ok(elapsed > 1200, `took ${elapsed.toFixed(0)} ms`);
  });
});

test('removing the buddy cuts the relay session at once', async () => {
  await withServer({}, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    const { sa, sb } = await openPair(server, alice, bob);
    await alice.client.ok('buddy.remove', { user: 'bob' });
    const [ca, cb] = await Promise.all([sa.closed, sb.closed]);
    assert.equal(ca.code, 4003);
    assert.equal(cb.code, 4003);
  });
});

test('an unpaired relay ticket expires', async () => {
  await withServer({ relayTicketTtlSeconds: 0.2 }, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    const ra = await alice.client.ok('relay.open', { buddy: 'bob', session: randomSessionId() });
    const sa = await joinRelay(server, String(ra.path));
    const closed = await sa.closed;
    assert.equal(closed.code, 4010);
  });
});
