import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A helper process inside a lab host that talks JSON lines: commands on stdin, events on stdout.
 * Lines are queued until a `next` takes them; `onLine` listeners (signal forwarding) see every line.
 */

export type Line = Record<string, unknown>;

const EXIT_DRAIN_MS = 1000;

export class JsonChild {
  private readonly queue: Line[] = [];
  private readonly listeners: ((line: Line) => boolean)[] = [];
  private wake: (() => void) | undefined;
  private stderr = '';
  private exited = false;
  private readonly exit: Promise<void>;
  /** The exit code (null after a signal), once the process has exited. */
  exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    /** False for programs that do not read commands (the server): stop() sends SIGTERM at once. */
    private readonly readsCommands = true,
  ) {
    createInterface({ input: child.stdout! }).on('line', (raw) => {
      // A JSON text sequence (RFC 7464, twisted's log) starts each record with RS (0x1e).
      const text = raw.charCodeAt(0) === 0x1e ? raw.slice(1) : raw;
      if (!text.startsWith('{')) return;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        return;
      }
      // A listener that returns true has taken the line (a forwarded signal): it is not queued.
      if (this.listeners.some((listen) => listen(line))) return;
      this.queue.push(line);
      this.wake?.();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.stdin!.on('error', () => {});
    this.exit = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        // 'exit' can come before the last lines are read from the pipe: wait for stdio to close,
        // bounded, since a descendant may hold it open.
        const done = () => {
          if (this.exited) return;
          this.exited = true;
          this.wake?.();
          resolve();
        };
        child.once('close', done);
        setTimeout(done, EXIT_DRAIN_MS).unref();
      }),
    );
  }

  onLine(listener: (line: Line) => boolean): void {
    this.listeners.push(listener);
  }

  send(command: Line): void {
    if (!this.exited) this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** The first queued line with this event (errors from the child reject), waiting up to `timeoutMs`. */
  async next(event: string, timeoutMs: number): Promise<Line> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.queue.findIndex((l) => l.event === event || l.event === 'error');
      if (index >= 0) {
        const [line] = this.queue.splice(index, 1);
        if (line!.event === 'error' && event !== 'error')
          throw new Error(`${this.name}: ${String(line!.message)}`);
        return line!;
      }
      if (this.exited)
        throw new Error(`${this.name} exited (${this.exitCode}) before '${event}': ${this.stderr.trim()}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`${this.name}: no '${event}' within ${timeoutMs} ms: ${this.stderr.trim()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Resolves with the exit code once the child has exited; rejects after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.exit, late]);
    } finally {
      clearTimeout(timer);
    }
    return this.exitCode ?? null;
  }

  /** The last lines of its stderr, for error messages. */
  get stderrTail(): string {
    return this.stderr.trim();
  }

  /** Asks the child to quit (so a --cpu-prof profile gets written), then SIGTERM, then SIGKILL. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited) return;
    if (this.readsCommands) this.send({ cmd: 'quit' });
    else this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGTERM'), graceMs);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 2 * graceMs);
    await this.exit;
    clearTimeout(timer);
    clearTimeout(killer);
  }
}
