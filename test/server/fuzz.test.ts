import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFuzz } from '../../bench/fuzz/campaign.js';

/** Seconds of the CI run (BUDDYLINK_FUZZ_SECONDS); `npm run bench -- fuzz` runs longer. */
const SECONDS = Number(process.env.BUDDYLINK_FUZZ_SECONDS ?? 20);

test('fuzzing the control protocol and the STUN port: no crash, no INTERNAL error, the victim served throughout', {
  timeout: (SECONDS + 60) * 1000,
}, async (t) => {
  const seed = Number(process.env.BUDDYLINK_FUZZ_SEED ?? Date.now() % 2 ** 31);
  const result = await runFuzz({ seconds: SECONDS, seed, connections: 4, window: 64, stunBatch: 32 });
  t.diagnostic(JSON.stringify(result));
  assert.equal(result.internalErrors, 0, `seed ${seed}: a handler threw an untyped error`);
  assert.ok(result.wsAnswered > 0 && result.stunProcessed > 0, 'both ports were fuzzed');
  assert.ok((result.outcomes.ok ?? 0) > 0, 'some fuzz frames reached a handler and succeeded');
  assert.equal(result.victim.failures, 0, `seed ${seed}: the victim's sameNat failed during the fuzz`);
  assert.ok(result.victim.maxMs < 3000, `the victim waited ${Math.round(result.victim.maxMs)} ms at most`);
  assert.ok(
    result.victim.stunFailures <= result.victim.stunChecks * 0.1,
    `the victim's STUN was answered (${result.victim.stunFailures} of ${result.victim.stunChecks} lost)`,
  );
});
