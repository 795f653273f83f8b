import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** A tiny run of the session benchmark proves it has not rotted (issue 11). */
const RUN = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
const SMOKE_TIMEOUT_MS = 30_000;

test('the session benchmark runs at smoke size and reports framing cost and move times', {
  timeout: SMOKE_TIMEOUT_MS + 5000,
}, async () => {
  const resultsDir = mkdtempSync(join(tmpdir(), 'buddylink-bench-'));
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [RUN, 'session', '--smoke', '--results-dir', resultsDir],
      { timeout: SMOKE_TIMEOUT_MS },
    );
    assert.match(stdout, /\| session on it, MB\/s \| \d/);
    assert.match(stdout, /\| direct path proven → session on it, ms \| \d/);
    assert.equal(readdirSync(resultsDir).filter((f) => /^session-.*\.json$/.test(f)).length, 1);
  } finally {
    rmSync(resultsDir, { recursive: true, force: true });
  }
});
