import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';

/** Process plumbing shared by benchmarks: core pinning, CPU accounting, line-based child output. */

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * A tool the benchmark needs (issue 6: "installing coturn ... as it needs them"): installed with
 * apt-get when missing and we are root on Debian; otherwise undefined and the caller says so.
 */
export function requireTool(
  binary: string,
  debianPackage: string,
  log: (line: string) => void,
): string | undefined {
  const found = findOnPath(binary);
  if (found) return found;
  return aptInstall(debianPackage, `${binary} missing`, log) ? findOnPath(binary) : undefined;
}

/** The same for a package known by one of its files (a Python module, a twisted plugin). */
export function requirePackageFile(
  path: string,
  debianPackage: string,
  log: (line: string) => void,
): boolean {
  return existsSync(path) || (aptInstall(debianPackage, `${path} missing`, log) && existsSync(path));
}

function aptInstall(debianPackage: string, why: string, log: (line: string) => void): boolean {
  if (process.getuid?.() !== 0 || !findOnPath('apt-get') || process.env.BENCH_NO_INSTALL === '1')
    return false;
  log(`${why}: apt-get install -y ${debianPackage}`);
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', debianPackage], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * CPUs this process may run on (its affinity, e.g. a CI container's cpuset), from
 * /proc/self/status; falls back to all CPUs the OS reports.
 */
export function allowedCpus(): number[] {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(status)?.[1];
    if (list) {
      const result: number[] = [];
      for (const part of list.trim().split(',')) {
        const [from, to] = part.split('-').map(Number);
        if (from === undefined || Number.isNaN(from)) continue;
        for (let cpu = from; cpu <= (to ?? from); cpu++) result.push(cpu);
      }
      if (result.length > 0) return result;
    }
  } catch {
    // not Linux: no /proc
  }
  return cpus().map((_, index) => index);
}

/** Prefix that pins a command to the given CPUs, or nothing where taskset is not available. */
export function pinnedCommand(cpus: string | undefined, command: string, args: string[]): [string, string[]] {
  if (cpus === undefined) return [command, args];
  const taskset = findOnPath('taskset');
  if (!taskset) return [command, args];
  // taskset execs the command, so the child's pid is the pinned process itself.
  return [taskset, ['-c', cpus, command, ...args]];
}

/** User + system CPU seconds of a whole process (all threads) from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ on Linux
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** A free UDP port on loopback for peers that cannot be told "port 0" (coturn). */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export interface LineChild {
  readonly child: ChildProcess;
  /** Next stdout line that parses as JSON, or rejects on exit/timeout. */
  nextJson(timeoutMs: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Spawns a child that talks JSON lines on stdout; stderr is kept for error messages. */
export function spawnLineChild(command: string, args: string[]): LineChild {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let waiter: (() => void) | undefined;
  let stderr = '';
  let exited = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    waiter?.();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      waiter?.();
      resolve();
    }),
  );

  return {
    child,
    async nextJson(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (lines.length > 0) {
          const line = lines.shift()!;
          try {
            const parsed: unknown = JSON.parse(line);
            if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
          } catch {
            // not a JSON line (a peer's log output); skip it
          }
        }
        if (exited) throw new Error(`${command} exited before answering: ${stderr.trim()}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${command} did not answer within ${timeoutMs} ms: ${stderr.trim()}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        waiter = undefined;
      }
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}
