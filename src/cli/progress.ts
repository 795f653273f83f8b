import type { Output } from './output.js';

/** How often progress is shown: often enough to look alive, rarely enough to keep stdout small. */
const PROGRESS_INTERVAL_MS = 250;
const BAR_WIDTH = 30;
/** Carriage return + erase the line: no stray characters when a shorter line follows a longer one. */
const CLEAR_LINE = '\r\x1b[2K';

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

/** The bar on screen, if any, so every other line can clear it first (errors never land on its end). */
let shown = false;

export function clearBar(): void {
  if (!shown) return;
  process.stderr.write(CLEAR_LINE);
  shown = false;
}

/**
 * Transfer progress for the whole transfer: `{"event":"progress",…}` lines with --json; otherwise
 * one bar with rate and ETA on stderr when it is a terminal (per-file lines go above it).
 */
export class Progress {
  private readonly started = performance.now();
  private lastShown = 0;

  constructor(
    private readonly out: Output,
    private readonly total: number | null,
  ) {}

  update(bytes: number): void {
    const now = performance.now();
    if ((this.total === null || bytes < this.total) && now - this.lastShown < PROGRESS_INTERVAL_MS) return;
    this.lastShown = now;
    const seconds = Math.max((now - this.started) / 1000, 1e-3);
    const rate = bytes / seconds;
    if (this.out.json) {
      this.out.event({ event: 'progress', bytes, total: this.total, bytesPerSecond: Math.round(rate) });
      return;
    }
    if (!process.stderr.isTTY) return;
    let line: string;
    if (this.total === null) {
      line = `${formatBytes(bytes)}  ${formatBytes(rate)}/s`;
    } else {
      const share = this.total === 0 ? 1 : Math.min(bytes / this.total, 1);
      const filled = Math.round(share * BAR_WIDTH);
      const eta = rate > 0 ? Math.ceil((this.total - bytes) / rate) : 0;
      line =
        `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ` +
        `${formatBytes(bytes)} of ${formatBytes(this.total)}  ${formatBytes(rate)}/s  ETA ${eta}s`;
    }
    // A terminal that does not say its width (0) gets 80 columns.
    const width = process.stderr.columns || 80;
    process.stderr.write(CLEAR_LINE + line.slice(0, Math.max(width - 1, 10)));
    shown = true;
  }

  /** Seconds since the start, and clears the bar line. */
  finish(): number {
    clearBar();
    return (performance.now() - this.started) / 1000;
  }
}
