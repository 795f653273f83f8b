import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findOnPath } from '../harness/processes.js';
import { wrappedNode } from '../load-process.js';
import { type BenchNode, floorRun } from './hold.js';
import { inspectorUrl } from './inspector.js';
import { LogTally } from './log-tally.js';
import { startReaper } from './reaper.js';

/** The cluster benchmark's server children: buddylink nodes and the bare `ws` floor. */

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./ws-floor.js', import.meta.url));
/** Kills what this run started if it dies before its own clean-up. */
export const reaper = startReaper();

export interface Node extends BenchNode {
  child: ChildProcess;
  logs: LogTally;
}

/** The bare `ws` server (its own process), holding `clients` idle clients that each sent one echo. */
export async function floorBytesPerClient(clients: number) {
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', FLOOR], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid) reaper.watch(child.pid);
  const logs = new LogTally(child);
  try {
    const line = await firstLine(child, 'floor');
    const url = (JSON.parse(line) as { ws: string }).ws;
    return await floorRun(child.pid ?? 0, inspectorUrl(logs.head), url, clients);
  } finally {
    child.kill('SIGTERM');
  }
}

function firstLine(child: ChildProcess, what: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 60 s`)), 60_000);
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.split('\n')[0] ?? '');
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited ${code}`));
    });
  });
}

export async function spawnNode(
  id: string,
  env: Record<string, string>,
  cluster: boolean,
  dataDir = ':memory:',
  fdLimit?: number,
): Promise<Node> {
  const args = [
    // The inspector lets the benchmark collect garbage before reading memory (loopback, random port).
    '--inspect=127.0.0.1:0',
    // BENCH_NODE_FLAGS: more flags for the nodes' node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
    MAIN,
    'server',
    '--json',
    ...['--host', '127.0.0.1', '--port', '0', '--stun-port', '0', '--http-port', '0', '--log-level', 'warn'],
    ...['--messages-per-second', '100000', '--message-burst', '100000', '--max-pending', '1000'],
    ...(cluster ? ['--node-id', id] : ['--data', dataDir]),
  ];
  // --node-fd-limit lowers a node's descriptor limit (prlimit execs: the pid stays node's), so that a
  // fill run to the limit is cheap enough for a smoke test.
  const [command, argv] =
    fdLimit === undefined ? [process.execPath, args] : wrappedNode(undefined, fdLimit, args);
  // wrappedNode leaves prlimit out when it is missing: a fill run would then silently not be one.
  if (fdLimit !== undefined && !findOnPath('prlimit'))
    throw new Error('--node-fd-limit needs prlimit (util-linux)');
  const child = spawn(command, argv, {
    env: cluster ? { ...process.env, ...env } : { ...process.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid) reaper.watch(child.pid);
  const logs = new LogTally(child);
  const listening = JSON.parse(await firstLine(child, `node ${id}`)) as { ws: string; http: string };
  return {
    id,
    child,
    logs,
    pid: child.pid ?? 0,
    ws: listening.ws,
    http: listening.http,
    inspector: inspectorUrl(logs.head),
  };
}
