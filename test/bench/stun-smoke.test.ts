import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** Issue 6: benchmarks stay out of CI, but a tiny run of each proves it has not rotted. */
const RUN = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
const SMOKE_TIMEOUT_MS = 15_000;

test('the STUN benchmark runs at smoke size and writes its table and JSON', {
  timeout: SMOKE_TIMEOUT_MS + 5000,
}, async () => {
  const resultsDir = mkdtempSync(join(tmpdir(), 'buddylink-bench-'));
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [RUN, 'stun', '--smoke', '--results-dir', resultsDir],
      {
        timeout: SMOKE_TIMEOUT_MS,
        // A smoke run must not apt-get anything; CI installs coturn itself (.ci/run).
        env: { ...process.env, BENCH_NO_INSTALL: '1' },
      },
    );
    assert.match(stdout, /\| load \| server \| answered\/s/);
    assert.match(stdout, /\| buddylink \|/);
    const files = readdirSync(resultsDir).filter((f) => /^stun-.*\.json$/.test(f));
    assert.equal(files.length, 1);
    const record = JSON.parse(readFileSync(join(resultsDir, files[0]!), 'utf8')) as {
      name: string;
      report: { rows: unknown[][] };
    };
    assert.equal(record.name, 'stun');
    const served = record.report.rows.filter((row) => row[1] === 'buddylink');
    assert.ok(served.length >= 2, 'both loads measured against our server');
    for (const row of served) assert.doesNotMatch(String(row[2]), /^0 /, 'our server answered');
  } finally {
    rmSync(resultsDir, { recursive: true, force: true });
  }
});
