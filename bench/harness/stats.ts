/** Small statistics for repeated runs: medians and spread, never a single lucky number. */

export function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Nearest-rank percentile (p in 0..100) of already sorted values. */
export function percentileOfSorted(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const rank = Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1));
  return values[rank]!;
}

export function median(values: readonly number[]): number {
  return percentileOfSorted(sorted(values), 50);
}

/** Median with min and max across runs, the spread that BENCHMARKS.md prints. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export function spread(values: readonly number[]): Spread {
  const s = sorted(values);
  return {
    median: percentileOfSorted(s, 50),
    min: s[0] ?? Number.NaN,
    max: s[s.length - 1] ?? Number.NaN,
    runs: s.length,
  };
}

/** "12,345 (11,900–12,800)": median and range, rounded to `digits`. */
export function formatSpread(value: Spread, digits = 0): string {
  const f = (n: number): string =>
    n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return `${f(value.median)} (${f(value.min)}–${f(value.max)})`;
}
