import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { MATRIX, type MatrixRow } from './matrix.js';
import { type Connect, runScenario, type ScenarioResult } from './scenario/run.js';

/**
 * `lab matrix`: every row of the NAT matrix with the real CLI, for people (a table of paths) and for
 * BENCHMARKS.md (connect times over several sends, written as JSON). The tests in test/lab assert
 * the same rows in more detail.
 */

export interface MatrixRunOptions {
  delayMs: number;
  /** Sends per row; connect times are reported as the median. */
  runs: number;
  /** Only rows whose topology is one of these (all when empty). */
  only: readonly string[];
  /** Directory for nat-lab-connect-<delay>ms.json; nothing written when undefined. */
  resultsDir?: string;
}

export interface RowOutcome {
  row: string;
  topology: string;
  delayMs: number;
  expectedPath: string | null;
  path: string | null;
  asExpected: boolean;
  /** Median connect time of the sends that connected, in ms. */
  connectMs: number | null;
  connectMsAll: (number | null)[];
  /** Sends that did not end on the expected path: exit code and what they said. */
  offPath: Connect[];
  attempts: ScenarioResult['attempts'];
  sha256Checked: boolean;
  /** Why the scenario could not run at all. */
  error?: string;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

export async function runRow(row: MatrixRow, options: MatrixRunOptions): Promise<RowOutcome> {
  const r = await runScenario({ ...row.scenario, delayMs: options.delayMs, sends: options.runs });
  const path = r.path ?? null;
  const times = r.connects.map((c) => c.ms).filter((ms): ms is number => ms !== null);
  return {
    row: row.name,
    topology: row.scenario.topology,
    delayMs: options.delayMs,
    expectedPath: row.expectedPath,
    path,
    asExpected: path === row.expectedPath && r.connects.every((c) => c.path === row.expectedPath),
    connectMs: median(times),
    connectMsAll: r.connects.map((c) => c.ms),
    offPath: r.connects.filter((c) => c.path !== row.expectedPath),
    attempts: r.attempts,
    sha256Checked: row.expectedPath === null || r.receivedSha256 === r.fileSha256,
  };
}

/** A row whose scenario could not even run (lab, server or CLI broken) is a failed row, not the end. */
function failedRow(row: MatrixRow, options: MatrixRunOptions, error: unknown): RowOutcome {
  return {
    row: row.name,
    topology: row.scenario.topology,
    delayMs: options.delayMs,
    expectedPath: row.expectedPath,
    path: null,
    asExpected: false,
    connectMs: null,
    connectMsAll: [],
    offPath: [],
    attempts: [],
    sha256Checked: false,
    error: error instanceof Error ? error.message : String(error),
  };
}

export async function runMatrix(
  options: MatrixRunOptions,
  onRow: (outcome: RowOutcome) => void,
): Promise<RowOutcome[]> {
  const rows = MATRIX.filter((r) => options.only.length === 0 || options.only.includes(r.scenario.topology));
  const outcomes: RowOutcome[] = [];
  const loadBefore = loadavg();
  // One row at a time: the connect times are what is measured, so rows must not compete for CPU.
  for (const row of rows) {
    const outcome = await runRow(row, options).catch((error: unknown) => failedRow(row, options, error));
    outcomes.push(outcome);
    onRow(outcome);
  }
  if (options.resultsDir !== undefined) {
    const body = {
      generated: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      loadavgBefore: loadBefore,
      loadavgAfter: loadavg(),
      delayMs: options.delayMs,
      runs: options.runs,
      records: outcomes,
    };
    await writeFile(
      join(options.resultsDir, `nat-lab-connect-${options.delayMs}ms.json`),
      `${JSON.stringify(body, null, 2)}\n`,
    );
  }
  return outcomes;
}
