import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wormholeBenchmark } from '../../bench/wormhole.js';
import { requireLab } from '../lab/support.js';
import { positiveMedian, smokeRun } from './transfer-smoke.js';

/** Issue 9: whole commands against magic-wormhole (its servers local), loopback and lab LAN, smoke size. */
test('the wormhole benchmark moves the same file with both tools on loopback and on the lab LAN', {
  timeout: 120_000,
}, async (t) => {
  if (!requireLab(t)) return;
  const report = await smokeRun(wormholeBenchmark);
  for (const where of ['loopback', 'lab LAN']) {
    const ours = report.rows.find((r) => r[0] === where && String(r[1]).startsWith('buddylink'));
    const theirs = report.rows.find((r) => r[0] === where && String(r[1]).startsWith('wormhole'));
    assert.ok(ours && theirs, `both tools measured on ${where}`);
    positiveMedian(ours[2]);
    positiveMedian(theirs[2]);
    assert.match(String(ours[3]), /×$/, 'a ratio ours / wormhole');
    assert.match(String(theirs[1]), /->tcp:/, 'wormhole went direct, not through its relay');
  }
});
