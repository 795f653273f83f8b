import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchmarkReport } from '../../bench/harness/benchmark.js';

/**
 * Runs a file-transfer benchmark at smoke size (tiny file, two runs, as `npm run bench -- NAME
 * --smoke`), without apt-get (CI installs the tools in .ci/run), and checks that every namespace it
 * announced ("… up (ID)") is gone afterwards.
 */
export async function smokeRun(benchmark: Benchmark): Promise<BenchmarkReport> {
  const resultsDir = mkdtempSync(join(tmpdir(), `bench-${benchmark.name}-`));
  const runIds: string[] = [];
  const install = process.env.BENCH_NO_INSTALL;
  process.env.BENCH_NO_INSTALL = '1';
  try {
    return await benchmark.run({
      smoke: true,
      runs: 2,
      profile: false,
      resultsDir,
      log: (line) => {
        const id = / up \((\w+)\)/.exec(line)?.[1];
        if (id) runIds.push(id);
      },
    });
  } finally {
    if (install === undefined) delete process.env.BENCH_NO_INSTALL;
    else process.env.BENCH_NO_INSTALL = install;
    rmSync(resultsDir, { recursive: true, force: true });
    assert.ok(runIds.length > 0, 'the benchmark said which namespaces it built');
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const id of runIds)
      assert.ok(!left.includes(`buddylab-${id}-`), `namespaces of ${id} left behind: ${left}`);
  }
}

/** A "12.3 (10.0–14.1)" cell's median, which must be a positive number. */
export function positiveMedian(cell: string | number | undefined): number {
  const value = Number.parseFloat(String(cell).replace(/,/g, ''));
  assert.ok(value > 0, `expected a positive figure, got ${String(cell)}`);
  return value;
}

/**
 * A CPU-per-byte cell: a figure, but possibly 0.0 at smoke size, where the sender's connected → sent
 * window can be shorter than one clock tick of /proc/<pid>/stat (10 ms).
 */
export function cpuFigure(cell: string | number | undefined): number {
  const value = Number.parseFloat(String(cell).replace(/,/g, ''));
  assert.ok(Number.isFinite(value) && value >= 0, `expected a CPU figure, got ${String(cell)}`);
  return value;
}
