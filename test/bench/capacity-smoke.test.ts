import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { capacityBenchmark } from '../../bench/capacity.js';

/** Issue 6: not part of CI, except a smoke run with tiny sizes, so that the benchmark cannot rot. */
test('the capacity benchmark holds every smoke client on both servers and measures bytes per client', {
  timeout: 120_000,
}, async () => {
  const resultsDir = mkdtempSync(join(tmpdir(), 'bench-capacity-'));
  try {
    const report = await capacityBenchmark.run({
      smoke: true,
      runs: 2,
      profile: false,
      resultsDir,
      log: () => {},
    });
    assert.equal(report.rows.length, 2, 'buddylink and the bare ws floor');
    for (const row of report.rows) {
      assert.equal(row[1], '300', 'every client held, as the server itself counts them');
      assert.match(String(row[8]), /^(\d+)\/\1$/, 'every probed client answered');
    }
    assert.ok(report.notes.some((note) => note.startsWith('bytes per connection, buddylink / bare ws')));
  } finally {
    rmSync(resultsDir, { recursive: true, force: true });
  }
});
