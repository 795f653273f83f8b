import type { BenchmarkContext } from '../harness/benchmark.js';
import { formatSpread, spread } from '../harness/stats.js';

/** Sizes, bounds and units shared by the file-transfer benchmarks (loopback, wormhole, lab). */

export const TRANSFER_SIZES = {
  /** The file: 1 GiB (--size overrides, e.g. 300M for a short validation run). */
  fullBytes: 2 ** 30,
  smokeBytes: 4 * 2 ** 20,
  fullWarmups: 1,
  smokeWarmups: 0,
} as const;

export function fileBytesOf(context: BenchmarkContext): number {
  return context.smoke ? TRANSFER_SIZES.smokeBytes : (context.fileBytes ?? TRANSFER_SIZES.fullBytes);
}

export function warmupsOf(context: BenchmarkContext): number {
  return context.smoke ? TRANSFER_SIZES.smokeWarmups : TRANSFER_SIZES.fullWarmups;
}

/** One transfer may take this long: 30 s plus the file at 2 MB/s (the slowest path seen is ~10×). */
export function transferTimeoutMs(bytes: number): number {
  return 30_000 + bytes / 2_000;
}

export function mebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** "median (min–max)" of MB/s (10^6 bytes per second). */
export function rates(values: readonly number[]): string {
  return formatSpread(spread(values.map((v) => v / 1e6)), 1);
}

/** CPU nanoseconds per byte moved: CPU seconds per GB. */
export function nsPerByte(cpuSeconds: readonly number[], bytes: number): string {
  return formatSpread(spread(cpuSeconds.map((s) => (s * 1e9) / bytes)), 1);
}
