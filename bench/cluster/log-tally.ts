import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A benchmark child's stderr, counted instead of printed: a node's JSON log lines by message (and error
 * message), so that 70,000 identical errors of a mass disconnect become one line of the report. Keeps
 * the first lines (the inspector's URL) and the last ones (why a child died).
 */
export class LogTally {
  readonly counts = new Map<string, number>();
  head = '';
  readonly #tail: string[] = [];

  constructor(child: ChildProcess) {
    if (!child.stderr) return;
    createInterface({ input: child.stderr }).on('line', (line) => this.#add(line));
  }

  get tail(): string[] {
    return [...this.#tail];
  }

  #add(line: string): void {
    if (this.head.length < 4000) this.head += `${line}\n`;
    this.#tail.push(line);
    if (this.#tail.length > 20) this.#tail.shift();
    // The inspector's own notices are not the node's.
    if (/^(Debugger |For help, see)/.test(line)) return;
    let key = 'other lines';
    try {
      const entry = JSON.parse(line) as { msg?: unknown; err?: { message?: unknown } };
      if (typeof entry.msg === 'string')
        key = typeof entry.err?.message === 'string' ? `${entry.msg} (${entry.err.message})` : entry.msg;
    } catch {}
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** "message ×count" for every message, most frequent first. */
  summary(): string {
    return [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ×${v}`)
      .join('; ');
  }
}
