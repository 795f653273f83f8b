import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PresenceQueue } from '../../src/server/presence-queue.js';

test('presence announcements run in order per user, never more than the bound at once, and go on after a failure', async () => {
  const failures: string[] = [];
  const queue = new PresenceQueue(4, (user, err) => failures.push(`${user}: ${(err as Error).message}`));
  const done: string[] = [];
  let running = 0;
  let most = 0;
  const task =
    (name: string, ms: number, fail = false) =>
    async () => {
      running++;
      most = Math.max(most, running);
      await sleep(ms);
      running--;
      if (fail) throw new Error(`${name} failed`);
      done.push(name);
    };
  // A storm: 200 users going offline at once, and alice logging off and on again quickly.
  queue.push('alice', task('alice offline', 20));
  queue.push('alice', task('alice online', 1));
  for (let i = 0; i < 200; i++) queue.push(`u${i}`, task(`u${i}`, 1, i === 7));
  assert.equal(queue.pending, 202);
  await queue.idle();
  assert.ok(most <= 4, `${most} ran at once`);
  assert.ok(
    done.indexOf('alice offline') < done.indexOf('alice online'),
    'a buddy hears offline, then online',
  );
  assert.equal(done.length, 201, 'every other announcement ran');
  assert.deepEqual(failures, ['u7: u7 failed']);
  assert.equal(queue.pending, 0);
});
