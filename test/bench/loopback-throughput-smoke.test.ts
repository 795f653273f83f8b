import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loopbackThroughputBenchmark } from '../../bench/loopback-throughput.js';
import { requireLab } from '../lab/support.js';
import { cpuFigure, positiveMedian, smokeRun } from './transfer-smoke.js';

/** Issue 9: `send` per path on loopback against the cipher over TCP and iperf3, at smoke size. */
test('the loopback throughput benchmark sends a file over every path and beside it the cipher over TCP and iperf3', {
  timeout: 120_000,
}, async (t) => {
  if (!requireLab(t)) return;
  const report = await smokeRun(loopbackThroughputBenchmark);
  for (const path of ['lan', 'internet', 'relay']) {
    const row = report.rows.find((r) => r[0] === `buddylink send --path ${path}`);
    assert.ok(row, `the ${path} row`);
    positiveMedian(row[1]);
    assert.match(String(row[2]), /×$/, 'a ratio against the cipher over TCP');
    assert.match(String(row[3]), /×$/, 'a ratio against iperf3');
    cpuFigure(row[5]);
  }
  positiveMedian(report.rows.find((r) => String(r[0]).startsWith('same cipher'))?.[1]);
  positiveMedian(report.rows.find((r) => String(r[0]).startsWith('iperf3'))?.[1]);
});
