import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { findOnPath } from './harness/processes.js';

/**
 * Parent side of the scale benchmarks' children (server under test, bare ws floor, load generators):
 * JSON commands on the child's stdin, one JSON answer line per command on its stdout.
 */

/** Open-file limits of this process (each TCP connection costs one descriptor on each side). */
export function openFileLimits(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').split(/\s+/).slice(3, 5);
  const parse = (t: string | undefined): number =>
    t === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(t) || 1024;
  return { soft: parse(soft), hard: parse(hard) };
}

/**
 * Descriptors a child may use: the hard limit, or BENCH_NOFILE when set higher (raising the hard limit
 * needs CAP_SYS_RESOURCE; prlimit fails without it and the benchmark reports the limit it got).
 */
export function childFileLimit(): number {
  const wanted = Number(process.env.BENCH_NOFILE ?? 0);
  return Math.max(openFileLimits().hard, Number.isInteger(wanted) ? wanted : 0);
}

/** `taskset -c CPUS prlimit --nofile=N:N -- node ARGS`; each wrapper execs, so the pid is node's. */
export function wrappedNode(
  cpus: string | undefined,
  nofile: number,
  nodeArgs: string[],
): [string, string[]] {
  const parts: string[] = [];
  const taskset = cpus === undefined ? undefined : findOnPath('taskset');
  if (taskset) parts.push(taskset, '-c', cpus!);
  const prlimit = findOnPath('prlimit');
  if (prlimit) parts.push(prlimit, `--nofile=${nofile}:${nofile}`, '--');
  parts.push(process.execPath, ...nodeArgs);
  return [parts[0]!, parts.slice(1)];
}

export interface CommandChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Sends one command and waits for the next JSON line; rejects on exit, timeout or `{error}`. */
  request(command: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>>;
  /** Waits for the next JSON line without sending anything (the child's first line). */
  next(timeoutMs: number): Promise<Record<string, unknown>>;
  /** Asks the child to stop (`{cmd:'stop'}`), then SIGTERM, then SIGKILL. */
  stop(): Promise<void>;
}

export function spawnCommandChild(command: string, args: string[]): CommandChild {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let stderr = '';
  let exited = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    wake?.();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.stdin!.on('error', () => {});
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      wake?.();
      resolve();
    }),
  );

  const next = async (timeoutMs: number): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (lines.length > 0) {
        const line = lines.shift()!;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue; // a log line, not an answer
        }
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
          const answer = parsed as Record<string, unknown>;
          if (typeof answer.error === 'string') throw new Error(`${command}: ${answer.error}`);
          return answer;
        }
      }
      if (exited) throw new Error(`${command} exited: ${stderr.trim().slice(-1500)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${command} did not answer within ${timeoutMs} ms: ${stderr.trim()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  };

  return {
    child,
    pid: child.pid!,
    next,
    request(cmd, timeoutMs) {
      child.stdin!.write(`${JSON.stringify(cmd)}\n`);
      return next(timeoutMs);
    },
    async stop() {
      if (exited) return;
      child.stdin!.write(`${JSON.stringify({ cmd: 'stop' })}\n`);
      const term = setTimeout(() => child.kill('SIGTERM'), 10_000);
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exitedPromise;
      clearTimeout(term);
      clearTimeout(kill);
    },
  };
}

/** Child side: answers each stdin command line with `handle`'s result as one stdout JSON line. */
export function serveCommands(
  handle: (command: Record<string, unknown>) => Promise<Record<string, unknown>>,
): void {
  let chain = Promise.resolve();
  createInterface({ input: process.stdin }).on('line', (line) => {
    chain = chain.then(async () => {
      let answer: Record<string, unknown>;
      try {
        const command: unknown = JSON.parse(line);
        if (!command || typeof command !== 'object') throw new Error('command must be a JSON object');
        answer = await handle(command as Record<string, unknown>);
      } catch (error) {
        answer = { error: error instanceof Error ? error.message : String(error) };
      }
      process.stdout.write(`${JSON.stringify(answer)}\n`);
    });
  });
  // The parent went away: nothing left to serve.
  process.stdin.on('end', () => void chain.then(() => process.exit(0)));
}
