import type { Output } from './output.js';

/** How often progress is shown: often enough to look alive, rarely enough to keep stdout small. */
const PROGRESS_INTERVAL_MS = 250;
const BAR_WIDTH = 30;

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/**
 * Transfer progress: `{"event":"progress",…}` lines with --json; otherwise a bar with rate and ETA
 * on stderr when it is a terminal (stdout keeps the one-line summary).
 */
export class Progress {
  private readonly started = performance.now();
  private lastShown = 0;

  constructor(
    private readonly out: Output,
    private readonly total: number,
  ) {}

  update(bytes: number): void {
    const now = performance.now();
    if (bytes < this.total && now - this.lastShown < PROGRESS_INTERVAL_MS) return;
    this.lastShown = now;
    const seconds = Math.max((now - this.started) / 1000, 1e-3);
    const rate = bytes / seconds;
    if (this.out.json) {
      this.out.event({ event: 'progress', bytes, total: this.total, bytesPerSecond: Math.round(rate) });
      return;
    }
    if (!process.stderr.isTTY) return;
    const share = this.total === 0 ? 1 : bytes / this.total;
    const filled = Math.round(share * BAR_WIDTH);
    const eta = rate > 0 ? Math.ceil((this.total - bytes) / rate) : 0;
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ` +
        `${formatBytes(bytes)} of ${formatBytes(this.total)}  ${formatBytes(rate)}/s  ETA ${eta}s  `,
    );
  }

  /** Seconds since the start, and clears the bar line. */
  finish(): number {
    if (!this.out.json && process.stderr.isTTY) process.stderr.write('\n');
    return (performance.now() - this.started) / 1000;
  }
}
