import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createUser, makeBuddies, randomSessionId, withServer } from './helpers.js';
import { joinRelay, openPair, waitFor } from './relay-helpers.js';

test('the per-user byte quota holds over several sessions in a row', async () => {
  await withServer({ relayMaxBytes: 100_000, relayUserQuotaBytes: 150_000 }, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    let delivered = 0;
    let quotaClose: { code: number; reason: string } | undefined;
    for (let round = 0; round < 5 && !quotaClose; round++) {
      const { sa, sb } = await openPair(server, alice, bob);
      for (let i = 0; i < 9 && sa.socket.readyState === sa.socket.OPEN; i++) {
        sa.socket.send(randomBytes(10_000));
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 100));
      delivered += sb.received.reduce((n, b) => n + b.length, 0);
      const closed = await Promise.race([sa.closed, new Promise<undefined>((r) => setTimeout(r, 200))]);
      if (closed?.code === 4009) quotaClose = closed;
      sa.socket.close();
      sb.socket.close();
      await sa.closed;
    }
    assert.equal(quotaClose?.code, 4009, 'closed at the user quota');
    assert.ok(delivered <= 160_000, `at most the quota (and one frame) got through: ${delivered}`);
    assert.equal(
      await alice.client.failure('relay.open', { buddy: 'bob', session: randomSessionId() }),
      'RELAY_LIMIT',
    );
    // Bob's own quota is untouched: he sent nothing.
    const c = await createUser(server, 'carol');
    await makeBuddies(bob, c);
    const { sa: sb2, sb: sc } = await openPair(server, bob, c);
    sb2.socket.send(randomBytes(1000));
    await waitFor(() => sc.received.length === 1, 'another user relays normally');
  });
});

test('an idle relay session is closed; so is one past its maximum lifetime', async () => {
  await withServer({ relayIdleSeconds: 0.3, relayMaxLifetimeSeconds: 60 }, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    const { sa } = await openPair(server, alice, bob);
    assert.equal((await sa.closed).code, 4012);
  });
  await withServer({ relayIdleSeconds: 60, relayMaxLifetimeSeconds: 0.5 }, async (server) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    await makeBuddies(alice, bob);
    const { sa, sb } = await openPair(server, alice, bob);
    const sending = setInterval(() => sa.socket.send(randomBytes(100)), 50);
    const closed = await sa.closed;
    clearInterval(sending);
    assert.equal(closed.code, 4013);
    assert.ok(sb.received.length > 3, 'it was busy, not idle');
  });
});

test("a buddy's relay sessions, joined by the victim, do not use up the victim's own", async () => {
  await withServer({ relaySessionsPerUser: 4 }, async (server) => {
    const victim = await createUser(server, 'victim');
    const pushy = await createUser(server, 'pushy');
    const friend = await createUser(server, 'friend');
    await makeBuddies(victim, pushy);
    await makeBuddies(victim, friend);
    const held = [];
    for (let i = 0; i < 8; i++) {
      const session = randomSessionId();
      const reply = await pushy.client.request('relay.open', { buddy: 'victim', session });
      if (!reply.ok) {
        assert.equal(reply.error?.code, 'RELAY_LIMIT', 'the buddy runs into its own limit');
        continue;
      }
      const answer = await victim.client.ok('relay.open', { buddy: 'pushy', session });
      held.push(await joinRelay(server, String(answer.path)));
    }
    assert.equal(held.length, 4);
    const session = randomSessionId();
    const mine = await victim.client.ok('relay.open', { buddy: 'friend', session });
    const theirs = await friend.client.ok('relay.open', { buddy: 'victim', session });
    const [a, b] = await Promise.all([
      joinRelay(server, String(mine.path)),
      joinRelay(server, String(theirs.path)),
    ]);
    await Promise.all([a.paired, b.paired]);
  });
});
