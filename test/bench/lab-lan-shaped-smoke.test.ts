import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labLanShapedBenchmark } from '../../bench/lab-lan-shaped.js';
import { requireLab } from '../lab/support.js';
import { positiveMedian, smokeRun } from './transfer-smoke.js';

/** Issue 9: `send` on the lab LAN shaped to 1 Gbit/s against iperf3 on the same link, at smoke size. */
test('the shaped lab LAN benchmark sends a file and runs iperf3 over the same shaped link', {
  timeout: 120_000,
}, async (t) => {
  if (!requireLab(t)) return;
  const report = await smokeRun(labLanShapedBenchmark);
  const ours = report.rows.find((r) => r[0] === 'buddylink send --path lan');
  assert.ok(ours, 'the LAN row');
  positiveMedian(ours[1]);
  assert.match(String(ours[3]), /×$/, 'a ratio against iperf3');
  const iperf = positiveMedian(report.rows.find((r) => String(r[0]).startsWith('iperf3'))?.[1]);
  // The shaping is in place: iperf3 cannot exceed 1 Gbit/s (125 MB/s) plus the tbf burst.
  assert.ok(iperf < 400, `iperf3 at ${iperf} MB/s: the link is not shaped`);
  assert.ok(
    report.notes.some((n) => n.startsWith('lan: ours / iperf3')),
    'the goal verdict',
  );
});
