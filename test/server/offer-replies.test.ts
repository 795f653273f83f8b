import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createUser,
  logOnDevice,
  makeBuddies,
  randomSessionId,
  type WireEvent,
  withServer,
} from './helpers.js';

test("answering a buddy's offers does not use up the answerer's own request limit", async () => {
  await withServer({}, async (server) => {
    const victim = await createUser(server, 'victim');
    const pushy = await createUser(server, 'pushy');
    await makeBuddies(pushy, victim);
    const devices = [pushy.client, await logOnDevice(server, 'pushy'), await logOnDevice(server, 'pushy')];
    // 3 × 12 offers: within each offering device's own limit.
    await Promise.all(
      devices.map(async (d) => {
        for (let i = 0; i < 12; i++) {
          const body = { session: randomSessionId(), purpose: 'offer', scope: 'global', addresses: [] };
          await d.ok('signal', { to: 'victim', body });
        }
      }),
    );
    await victim.client.settle();
    const offers = victim.client.events.filter((e: WireEvent) => e.event === 'signal');
    assert.equal(offers.length, 36);
    // The victim answers all of them and makes 30 requests of its own (within its limit) at once: 66 > burst 40.
    const replies = [];
    for (const [i, e] of offers.entries()) {
      if (i < 30) replies.push(await victim.client.request('ping'));
      const body = { ...(e.body as object), purpose: 'abort', reason: 'busy' };
      replies.push(await victim.client.request('signal', { to: 'pushy', body }));
    }
    const refused = replies.filter((r) => !r.ok).map((r) => r.error?.code);
    assert.deepEqual(refused, [], 'nothing refused');
    assert.equal(victim.client.closeCode, undefined, 'still connected');
  });
});
