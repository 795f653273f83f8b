import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../lab.js';

/** Runs the real `buddylink` CLI inside lab hosts and reads its JSON lines. */

export const BUDDYLINK_CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export type JsonLine = Record<string, unknown> & { event?: string };

export function parseJsonLines(text: string): JsonLine[] {
  const out: JsonLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as JsonLine);
    } catch {
      // a partial line: ignore
    }
  }
  return out;
}

/** A long-running CLI process (server, receive) whose JSON lines are collected as they come. */
export class CliProcess {
  readonly lines: JsonLine[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly waiters = new Set<() => void>();

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.stdout += `${line}\n`;
      this.lines.push(...parseJsonLines(line));
      for (const w of this.waiters) w();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        resolve(code);
        for (const w of this.waiters) w();
      });
    });
  }

  static spawn(lab: Lab, host: string, args: readonly string[], env: NodeJS.ProcessEnv): CliProcess {
    return new CliProcess(
      lab.spawn(host, ['node', BUDDYLINK_CLI, ...args], { env: { ...process.env, ...env } }),
    );
  }

  /** The first line with this event, waiting up to `timeoutMs`; undefined on timeout or exit. */
  waitForEvent(event: string, timeoutMs: number): Promise<JsonLine | undefined> {
    return this.waitForNth(event, 1, timeoutMs);
  }

  /** The `n`th line with this event (1-based), waiting up to `timeoutMs`. */
  waitForNth(event: string, n: number, timeoutMs: number): Promise<JsonLine | undefined> {
    return new Promise((resolve) => {
      const check = (): void => {
        const hit = this.lines.filter((l) => l.event === event)[n - 1];
        if (hit || this.child.exitCode !== null || this.child.signalCode !== null) done(hit);
      };
      const done = (value: JsonLine | undefined): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** Runs one CLI command to completion inside `host`. */
export async function runCli(
  lab: Lab,
  host: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
): Promise<{ exitCode: number; lines: JsonLine[]; stdout: string; stderr: string }> {
  const result = await lab.exec(host, ['node', BUDDYLINK_CLI, ...args], {
    env: { ...process.env, ...env },
    allowFailure: true,
    timeoutMs,
  });
  return {
    exitCode: result.exitCode,
    lines: parseJsonLines(result.stdout),
    stdout: result.stdout,
    stderr: result.stderr,
  };
}
