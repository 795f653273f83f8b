import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { judgementBenchmark } from '../../bench/judgement.js';

/** Issue 6: not part of CI, except a smoke run with tiny sizes, so that the benchmark cannot rot. */
test('the judgement benchmark runs at smoke size and every judgement is answered', {
  timeout: 120_000,
}, async () => {
  const resultsDir = mkdtempSync(join(tmpdir(), 'bench-judgement-'));
  try {
    const report = await judgementBenchmark.run({
      smoke: true,
      runs: 2,
      profile: false,
      resultsDir,
      log: () => {},
    });
    const measured = report.rows.filter((row) => row[1] !== 'not run');
    assert.equal(measured.length, 6, 'two populations × (saturated, paced, unloaded)');
    for (const row of measured) {
      assert.match(String(row[2]), /^[\d,]+ \(/, 'judgements per second as median (min–max)');
      assert.notEqual(String(row[2]).startsWith('0 '), true, 'some judgements were answered');
      assert.equal(row[10], 0, 'no judgement was refused');
    }
    assert.ok(report.notes.some((note) => note.startsWith('growth from N=')));
  } finally {
    rmSync(resultsDir, { recursive: true, force: true });
  }
});
