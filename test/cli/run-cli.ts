import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI, exactly as users and the NAT lab run it: `node dist/src/cli/main.js …`. */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON lines (throws if any line is not JSON). */
  events: Record<string, unknown>[];
  ms: number;
}

export function parseLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export function startCli(
  args: string[],
  env: Record<string, string>,
  options: { stdin?: boolean } = {},
): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
}

/** Runs one command to its end (bounded by `timeoutMs`). */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<CliResult> {
  const started = performance.now();
  const child = startCli(args, env);
  return collect(child, started, timeoutMs);
}

export function collect(child: ChildProcess, started: number, timeoutMs = 20_000): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      let events: Record<string, unknown>[] = [];
      try {
        events = parseLines(stdout);
      } catch {
        events = [{ event: 'unparseable', stdout }];
      }
      resolve({ code, stdout, stderr, events, ms });
    });
  });
}

/** Resolves when the child prints a JSON line with this event (bounded by `timeoutMs`). */
export function waitForEvent(child: ChildProcess, event: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`no ${event} line within ${timeoutMs} ms`)), timeoutMs);
    const onData = (d: Buffer) => {
      buffered += d.toString();
      if (buffered.split('\n').some((line) => line.includes(`"event":"${event}"`))) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
  });
}
