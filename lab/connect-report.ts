#!/usr/bin/env node
import { readFile } from 'node:fs/promises';

/**
 * Turns the connect times a matrix run wrote (BUDDYLINK_LAB_RESULTS) into the Markdown table of
 * BENCHMARKS.md, one column per delay:
 *   node dist/lab/connect-report.js bench/results/nat-lab-connect-0ms.json bench/results/nat-lab-connect-20ms.json
 */

interface Attempt {
  path: string;
  ok: boolean;
  ms: number;
}

interface ConnectRecord {
  row: string;
  topology: string;
  delayMs: number;
  path: string | null;
  connectMs: number | null;
  connectMsAll?: (number | null)[];
  attempts: Attempt[];
}

interface ResultFile {
  delayMs: number;
  records: ConnectRecord[];
}

function tries(r: ConnectRecord): string {
  return r.attempts.map((a) => `${a.path} ${a.ok ? '✓' : '✗'} ${a.ms}`).join(', ');
}

async function main(files: string[]): Promise<void> {
  const runs = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as ResultFile));
  const first = runs[0];
  if (!first) throw new Error('usage: connect-report FILE...');
  const header = [
    'row',
    'topology',
    'path',
    ...runs.map((r) => `connect ms, ${r.delayMs} ms delay`),
    'tries (ms), no delay',
  ];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const record of first.records) {
    const cells = runs.map((run) => {
      const same = run.records.find((r) => r.row === record.row);
      if (same?.connectMs == null) return `— (${same?.path ?? 'no path'})`;
      const all = (same.connectMsAll ?? []).filter((ms): ms is number => ms !== null);
      return all.length > 1
        ? `${same.connectMs} (${Math.min(...all)}–${Math.max(...all)})`
        : String(same.connectMs);
    });
    console.log(
      `| ${[record.row, record.topology, record.path ?? 'none', ...cells, tries(record)].join(' | ')} |`,
    );
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
