import assert from 'node:assert/strict';
import { test } from 'node:test';
import type NoiseSecretStream from '@hyperswarm/secret-stream';
import type { PathAttempt } from '../../src/client/attempts.js';
import { PathRace } from '../../src/client/path-race.js';

/** Enough of a verified stream for the race: it only ever closes losers. */
function fakeSecret(): NoiseSecretStream & { destroyed: boolean } {
  const secret = { destroyed: false, destroy: () => (secret.destroyed = true) };
  return secret as unknown as NoiseSecretStream & { destroyed: boolean };
}

test('the first proof decides the race at once: tries still running are reported superseded and cancelled then', async () => {
  const attempts: PathAttempt[] = [];
  const race = new PathRace(attempts, undefined);
  const lan = race.begin('lan', 60_000);
  const internet = race.begin('internet', 60_000);
  const secret = fakeSecret();
  race.prove(lan, secret);
  assert.deepEqual(await race.outcome, { path: 'lan', secret });
  assert.equal(internet.cancelled, true);
  assert.deepEqual(
    attempts.map((a) => [a.path, a.ok, a.reason]),
    [
      ['lan', true, undefined],
      ['internet', false, 'superseded by lan'],
    ],
  );
  // However the loser ends afterwards, its entry stays the one recorded at cancel time.
  race.lose(internet, 'ABORTED: attempt cancelled');
  assert.equal(attempts.length, 2);
});

test('a path proven after the winner is closed and reported superseded; the winner stays', async () => {
  const attempts: PathAttempt[] = [];
  const race = new PathRace(attempts, undefined);
  const lan = race.begin('lan');
  const relay = race.begin('relay');
  race.prove(lan, fakeSecret());
  const late = fakeSecret();
  race.prove(relay, late);
  assert.equal(late.destroyed, true);
  assert.equal((await race.outcome)?.path, 'lan');
  assert.equal(attempts.filter((a) => a.path === 'relay').length, 1);
});

test('a fatal error ends the race with that error and reports no path as failed', async () => {
  const attempts: PathAttempt[] = [];
  const race = new PathRace(attempts, undefined);
  const lan = race.begin('lan');
  race.fail(new Error('buddy offline'));
  await assert.rejects(race.outcome, /buddy offline/);
  assert.equal(lan.cancelled, true);
  race.lose(lan, 'cancelled');
  assert.deepEqual(attempts, []);
});

test("the caller's signal cancels the race with its reason, and a head-start delay ends with the race", async () => {
  const stop = new AbortController();
  const race = new PathRace([], undefined, stop.signal);
  const started = performance.now();
  const waiting = race.delay(60_000);
  stop.abort(new Error('the client is closed'));
  await assert.rejects(race.outcome, /the client is closed/);
  await waiting;
  assert.ok(performance.now() - started < 1000);
});

test('a try times out on its own: cancelled, and marked so for its report', async () => {
  const race = new PathRace([], undefined);
  const internet = race.begin('internet', 20);
  await new Promise((resolve) => internet.signal.addEventListener('abort', resolve, { once: true }));
  assert.equal(internet.hasTimedOut, true);
  race.lose(internet, 'timed out');
  race.settle();
  assert.equal(await race.outcome, undefined);
});
