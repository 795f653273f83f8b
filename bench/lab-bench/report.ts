import { loadavg } from 'node:os';
import { formatSpread, type Spread, spread } from '../harness/stats.js';

/** Shared bits of the lab benchmarks' reports: per-run paired ratios, spreads, goal verdicts. */

/**
 * Runs are interleaved, so run i of ours and run i of the peer saw the same moment of a shared
 * machine: the ratio within each pair is steadier than the ratio of the two medians.
 */
export function pairedRatio(ours: readonly number[], theirs: readonly number[]): Spread {
  const n = Math.min(ours.length, theirs.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push(ours[i]! / theirs[i]!);
  return spread(ratios);
}

export function ms(values: readonly number[]): string {
  return formatSpread(spread(values), 0);
}

export function ratio(value: Spread): string {
  return `${formatSpread(value, 2)}×`;
}

/** "met" / "missed by N×" for a goal of `ours/theirs ≤ limit` (lower is better) or `≥ limit`. */
export function verdict(value: Spread, limit: number, better: 'lower' | 'higher'): string {
  const ok = better === 'lower' ? value.median <= limit : value.median >= limit;
  if (ok) return `goal ${better === 'lower' ? '≤' : '≥'} ${limit}×: met`;
  const factor = better === 'lower' ? value.median / limit : limit / value.median;
  return `goal ${better === 'lower' ? '≤' : '≥'} ${limit}×: missed (${factor.toFixed(1)}× short)`;
}

export function loadNote(when: string): string {
  const [one, five, fifteen] = loadavg().map((v) => v.toFixed(2));
  return `load average ${when}: ${one} / ${five} / ${fifteen} (1 / 5 / 15 min; machine shared with other test runs)`;
}

export function megabytes(bytesPerSecond: number): number {
  return bytesPerSecond / 1e6;
}

export { formatSpread, type Spread, spread };
