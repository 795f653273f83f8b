import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchmarkContext } from './harness/benchmark.js';
import { describeMachine } from './harness/machine.js';
import { formatReport } from './harness/table.js';
import { BENCHMARKS } from './registry.js';

/**
 * `npm run bench` runs every benchmark; `npm run bench -- NAME…` some of them.
 * Flags: --smoke (tiny sizes, for CI), --runs N (default 5, smoke 2), --profile (CPU profile of our
 * side), --size N[K|M|G] (the file of the transfer benchmarks, binary units; default 1G),
 * --results-dir DIR (default bench/results). Each benchmark prints a Markdown table and writes
 * DIR/NAME-<timestamp>.json.
 */

const DEFAULT_RUNS = 5;
const SMOKE_RUNS = 2;
const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

interface Arguments {
  names: string[];
  smoke: boolean;
  profile: boolean;
  runs: number | undefined;
  fileBytes: number | undefined;
  resultsDir: string;
}

function parseArguments(argv: readonly string[]): Arguments {
  const parsed: Arguments = {
    names: [],
    smoke: false,
    profile: false,
    runs: undefined,
    fileBytes: undefined,
    resultsDir: DEFAULT_RESULTS_DIR,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--smoke') parsed.smoke = true;
    else if (arg === '--profile') parsed.profile = true;
    else if (arg === '--runs') parsed.runs = positiveInteger(argv[++i], '--runs');
    else if (arg === '--size') parsed.fileBytes = byteSize(argv[++i]);
    else if (arg === '--results-dir') parsed.resultsDir = resolve(argv[++i] ?? '.');
    else if (arg.startsWith('--')) throw new Error(`unknown flag ${arg}`);
    else parsed.names.push(arg);
  }
  return parsed;
}

function positiveInteger(text: string | undefined, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 100)
    throw new Error(`${flag} needs an integer 1..100`);
  return value;
}

/** "300M" → 300 MiB; at least 1 KiB, at most 16 GiB (a disk and a patience bound). */
function byteSize(text: string | undefined): number {
  const m = /^(\d+)([KMG]?)$/i.exec(text ?? '');
  const unit = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[(m?.[2] ?? '').toUpperCase()];
  const bytes = Number(m?.[1]) * (unit ?? Number.NaN);
  if (!Number.isInteger(bytes) || bytes < 2 ** 10 || bytes > 16 * 2 ** 30)
    throw new Error('--size needs N, NK, NM or NG between 1K and 16G');
  return bytes;
}

async function main(): Promise<number> {
  const args = parseArguments(process.argv.slice(2));
  const unknown = args.names.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`,
    );
    return 2;
  }
  const selected = args.names.length > 0 ? BENCHMARKS.filter((b) => args.names.includes(b.name)) : BENCHMARKS;
  mkdirSync(args.resultsDir, { recursive: true });
  const context: BenchmarkContext = {
    smoke: args.smoke,
    runs: args.runs ?? (args.smoke ? SMOKE_RUNS : DEFAULT_RUNS),
    profile: args.profile,
    ...(args.fileBytes !== undefined ? { fileBytes: args.fileBytes } : {}),
    resultsDir: args.resultsDir,
    log: (line) => process.stderr.write(`  ${line}\n`),
  };
  let failures = 0;
  for (const benchmark of selected) {
    process.stderr.write(`# ${benchmark.name}: ${benchmark.description}\n`);
    const startedAt = new Date();
    try {
      const report = await benchmark.run(context);
      process.stdout.write(`${formatReport(report)}\n\n`);
      const file = join(
        args.resultsDir,
        `${benchmark.name}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`,
      );
      const record = {
        name: benchmark.name,
        startedAt: startedAt.toISOString(),
        command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
        smoke: context.smoke,
        runs: context.runs,
        machine: describeMachine(),
        report,
      };
      writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
      process.stderr.write(`  wrote ${file}\n`);
    } catch (error) {
      failures++;
      process.stderr.write(
        `  ${benchmark.name} failed: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
    }
  }
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main();
