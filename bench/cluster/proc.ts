import { readdirSync, readFileSync } from 'node:fs';

/** What /proc says about a process of the benchmark (a node, a generator, redis-server). */

/** The process exists (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Open descriptors: what the per-process limit counts. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The process's soft open-file limit (Node raises it to the hard one at start-up). */
export function fdLimit(pid: number): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s+/)[3];
  return soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
}

/** User + system CPU seconds used so far (fields 14 and 15 of /proc/PID/stat, in clock ticks). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU use of each pid over `ms`, in % of one core. */
export async function cpuPercent(pids: number[], ms: number): Promise<number[]> {
  const before = pids.map(safeCpu);
  await new Promise((r) => setTimeout(r, ms));
  return pids.map((pid, i) => ((safeCpu(pid) - (before[i] ?? 0)) / (ms / 1000)) * 100);
}

function safeCpu(pid: number): number {
  try {
    return cpuSeconds(pid);
  } catch {
    return Number.NaN;
  }
}
