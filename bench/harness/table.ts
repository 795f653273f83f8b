import type { BenchmarkReport } from './benchmark.js';

/** The report as a Markdown table, so it can be pasted into BENCHMARKS.md unchanged. */
export function formatReport(report: BenchmarkReport): string {
  const lines = [`## ${report.title}`, ''];
  for (const line of report.setup) lines.push(`- ${line}`);
  lines.push('');
  lines.push(`| ${report.columns.join(' | ')} |`);
  lines.push(`|${report.columns.map(() => '---').join('|')}|`);
  for (const row of report.rows) lines.push(`| ${row.join(' | ')} |`);
  lines.push('');
  for (const note of report.notes) lines.push(`- ${note}`);
  return lines.join('\n');
}
