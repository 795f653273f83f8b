import { mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerOptions } from '../src/server/index.js';
import { type CommandChild, childFileLimit, spawnCommandChild, wrappedNode } from './load-process.js';
import type { ServerChildConfig } from './load-server.js';

/**
 * What the two scale benchmarks (judgement, capacity) share: where their children run, how many
 * connections one process may hold on this machine, and how the server under test is started.
 */

export const SERVER_CPUS = '0';
export const GENERATOR_CPUS = '1';
export const LOOPBACK = '127.0.0.1';
/** Descriptors a process needs besides its client sockets (listeners, SQLite, stdio, the event loop). */
const FD_RESERVE = 64;
/** Heap for a generator holding tens of thousands of clients. */
const GENERATOR_HEAP_MB = 8192;

const distBench = fileURLToPath(new URL('.', import.meta.url));

export function pinningAvailable(): boolean {
  return cpus().length >= 2;
}

/**
 * Connections one process can hold: one descriptor per TCP connection, so the open-file hard limit
 * minus a reserve. On a machine whose limit is below the benchmark's sizes, the sizes above it are
 * reported as not run, with this figure as the reason.
 */
export function maxConnectionsPerProcess(): { limit: number; fileLimit: number } {
  const fileLimit = childFileLimit();
  return { limit: fileLimit - FD_RESERVE, fileLimit };
}

/**
 * Server options of the scale runs beyond the defaults, each stated in the report. Logs at warn: at
 * info the server writes a synchronous line per logon, which at 100,000 logons measures stderr.
 */
export function benchServerOptions(extra: Partial<ServerOptions> = {}): Partial<ServerOptions> {
  // The generator's clients come from many 127.x addresses: per-source limits would measure themselves.
  return { logLevel: 'warn', limitExemptSources: ['127.0.0.0/8'], maxPendingUpgrades: 100_000, ...extra };
}

export interface ServerChild {
  readonly process: CommandChild;
  readonly ws: string;
  memory(): Promise<NodeJS.MemoryUsage>;
  stats(): Promise<{ connections: number; devicesOnline: number }>;
  /** Event-loop delay of the server (its own stalls and waits for its core) since the last reset: p99 and max, µs. */
  loopDelay(reset: boolean): Promise<{ p99Us: number; maxUs: number }>;
  /** CPU profile of the server from now until profileStop (bench/load-server.ts). */
  profileStart(): Promise<void>;
  profileStop(path: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts bench/load-server.js pinned to the server CPU. */
export async function startServerChild(
  config: ServerChildConfig,
  options: { pin: boolean },
): Promise<ServerChild> {
  const [command, args] = wrappedNode(options.pin ? SERVER_CPUS : undefined, childFileLimit(), [
    '--expose-gc',
    join(distBench, 'load-server.js'),
    JSON.stringify(config),
  ]);
  const child = spawnCommandChild(command, args);
  const first = await child.next(20_000);
  if (typeof first.ws !== 'string') throw new Error('server child did not report its address');
  return {
    process: child,
    ws: first.ws,
    async memory() {
      return (await child.request({ cmd: 'memory' }, 60_000)).memory as NodeJS.MemoryUsage;
    },
    async stats() {
      const s = await child.request({ cmd: 'stats' }, 30_000);
      return { connections: Number(s.connections), devicesOnline: Number(s.devicesOnline) };
    },
    async loopDelay(reset) {
      if (reset) {
        await child.request({ cmd: 'loop-delay-reset' }, 30_000);
        return { p99Us: 0, maxUs: 0 };
      }
      const d = await child.request({ cmd: 'loop-delay' }, 30_000);
      return { p99Us: Number(d.p99Us), maxUs: Number(d.maxUs) };
    },
    async profileStart() {
      await child.request({ cmd: 'profile-start' }, 30_000);
    },
    async profileStop(path) {
      mkdirSync(dirname(path), { recursive: true });
      await child.request({ cmd: 'profile-stop', path }, 60_000);
    },
    stop: () => child.stop(),
  };
}

/** Starts bench/load-generator.js pinned to the generator CPU. */
export function startGeneratorChild(pin: boolean): CommandChild {
  const [command, args] = wrappedNode(pin ? GENERATOR_CPUS : undefined, childFileLimit(), [
    `--max-old-space-size=${GENERATOR_HEAP_MB}`,
    join(distBench, 'load-generator.js'),
  ]);
  return spawnCommandChild(command, args);
}

/**
 * Load averages before and after a benchmark: on a shared machine other work competes for the pinned
 * cores, which shows in latency far more than in CPU time per request.
 */
export function sharedMachineNote(before: number[]): string {
  const f = (l: number[]): string => l.map((x) => x.toFixed(1)).join(' / ');
  return `machine load average (1/5/15 min) ${f(before)} at start, ${f(loadavg())} at end, on ${cpus().length} CPUs: above ${cpus().length} other work shared the cores`;
}
