import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Benchmark } from '../../bench/harness/benchmark.js';
import { labConnectBenchmark } from '../../bench/lab-connect.js';
import { labReachBenchmark } from '../../bench/lab-reach.js';
import { labSetupBytesBenchmark } from '../../bench/lab-setup-bytes.js';
import { labThroughputBenchmark } from '../../bench/lab-throughput.js';
import { requireLab } from '../lab/support.js';

/**
 * Issue 6: the NAT-lab benchmarks are not part of CI, except this smoke run with tiny sizes (one
 * path each, one measured run), so that they cannot rot. Needs root (namespaces, nftables): fails
 * under CI=true without it, skipped elsewhere.
 */

async function smoke(benchmark: Benchmark) {
  const resultsDir = mkdtempSync(join(tmpdir(), `bench-${benchmark.name}-`));
  const runIds: string[] = [];
  try {
    const report = await benchmark.run({
      smoke: true,
      runs: 1,
      profile: false,
      resultsDir,
      log: (line) => {
        const id = / up \((\w+)\)$/.exec(line)?.[1];
        if (id) runIds.push(id);
      },
    });
    return { report, runIds };
  } finally {
    rmSync(resultsDir, { recursive: true, force: true });
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const id of runIds) assert.ok(!left.includes(`buddylab-${id}-`), `lab ${id} left behind: ${left}`);
  }
}

test('the lab benchmarks connect on the LAN against ICE, push bytes through the relay against iperf3, and count setup bytes on the internet path', {
  timeout: 120_000,
}, async (t) => {
  if (!requireLab(t)) return;

  const connect = await smoke(labConnectBenchmark);
  assert.equal(connect.runIds.length, 1, 'one lab built and torn down');
  const lanFirstByte = connect.report.rows.find(
    (r) => r[0] === 'lan' && String(r[1]).includes('first verified byte'),
  );
  assert.ok(lanFirstByte, 'the LAN row of buddylink');
  assert.match(String(lanFirstByte[2]), /^\d/, 'a connect time');
  assert.match(String(lanFirstByte[3]), /×/, 'a ratio against ICE');

  const throughput = await smoke(labThroughputBenchmark);
  const relay = throughput.report.rows.find((r) => r[0] === 'relay');
  assert.ok(relay, 'the relay row');
  assert.ok(Number.parseFloat(String(relay[2])) > 0, 'buddylink moved bytes through the relay');
  assert.ok(Number.parseFloat(String(relay[3])) > 0, 'iperf3 moved bytes through the forwarder');

  const bytes = await smoke(labSetupBytesBenchmark);
  const ours = bytes.report.rows.find((r) => r[0] === 'internet' && r[1] === 'buddylink');
  assert.ok(ours, 'the internet row of buddylink');
  assert.ok(Number.parseInt(String(ours[5]).replace(/,/g, ''), 10) > 0, 'setup bytes counted');
  assert.ok(
    bytes.report.rows.some((r) => String(r[1]).startsWith('ICE')),
    'ICE counted beside it',
  );
});

test('the reach benchmark measures a row for buddylink and for ICE', { timeout: 120_000 }, async (t) => {
  if (!requireLab(t)) return;
  const reach = await smoke(labReachBenchmark);
  assert.equal(reach.runIds.length, 1, "the ICE side's lab built and torn down");
  const [row] = reach.report.rows;
  assert.ok(row && String(row[0]).startsWith('symmetric-both'), 'the symmetric-both row');
  assert.match(String(row[1]), /^1\/1 .* relay$/, 'buddylink reached the relay');
  assert.match(String(row[3]), /^[01]\/1 /, 'ICE tried once');
});
