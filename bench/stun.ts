import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { queryStun } from '../src/stun/client.js';
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js';
import { hottestFunctions, newestProfile } from './harness/cpu-profile.js';
import {
  allowedCpus,
  freeUdpPort,
  type LineChild,
  pinnedCommand,
  processCpuSeconds,
  requireTool,
  spawnLineChild,
} from './harness/processes.js';
import { formatSpread, type Spread, spread } from './harness/stats.js';
import type { LoadConfig, LoadResult } from './stun/load-generator.js';

/**
 * Issue 6, row 1: STUN Binding requests answered per second and latency, our server against coturn,
 * same machine, same generator, same core count.
 *
 * Held constant: one core for the server under test (taskset CPU 0; coturn also limited to one
 * general server thread with -m 1), one other core for the generator (CPU 1), loopback IPv4,
 * identical 28-byte requests (Binding + FINGERPRINT), same warm-up, same duration, runs interleaved
 * ours/coturn so that machine noise hits both.
 */

const HOST = '127.0.0.1';

const SIZES = {
  full: { warmupMs: 1000, measureMs: 3000, maxRequests: 3_000_000, lossTimeoutMs: 250 },
  smoke: { warmupMs: 100, measureMs: 300, maxRequests: 100_000, lossTimeoutMs: 100 },
} as const;

/** Saturation (throughput, latency under load) and an unloaded round trip (latency alone). */
const LOADS = [
  { name: 'saturated (4 sockets × 16 in flight)', sockets: 4, window: 16 },
  { name: 'unloaded (1 in flight)', sockets: 1, window: 1 },
] as const;

/** CPUs for the server under test and for the load generator; undefined: no pinning. */
type Cores = { server: string; generator: string } | undefined;

interface Peer {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
}

interface RunFigures extends LoadResult {
  serverCpuSeconds: number;
}

const distDir = fileURLToPath(new URL('.', import.meta.url));

async function waitUntilAnswering(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await queryStun({ host: HOST, port }, { rtoMs: 50, retries: 2, timeoutMs: 400 });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

async function startOurs(
  context: BenchmarkContext,
  cores: Cores,
  profileDir: string | undefined,
): Promise<Peer> {
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const [command, args] = pinnedCommand(cores?.server, process.execPath, [
    ...nodeArgs,
    join(distDir, 'stun', 'our-stun-server.js'),
    HOST,
  ]);
  const child = spawnLineChild(command, args);
  const { port } = await child.nextJson(10_000);
  if (typeof port !== 'number') throw new Error('our STUN server did not report its port');
  await waitUntilAnswering(port, 5000);
  context.log(`buddylink STUN server pid ${child.child.pid} on udp://${HOST}:${port}`);
  return { name: 'buddylink', pid: child.child.pid!, port, stop: () => child.stop() };
}

async function startCoturn(context: BenchmarkContext, cores: Cores, turnserver: string): Promise<Peer> {
  const port = await freeUdpPort(HOST);
  const scratch = join(context.resultsDir, 'coturn');
  mkdirSync(scratch, { recursive: true });
  const [command, args] = pinnedCommand(cores?.server, turnserver, [
    '-n', // no configuration file: only these flags
    `--listening-ip=${HOST}`,
    `--listening-port=${port}`,
    '--stun-only',
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '--relay-threads=1', // one general server thread: one core, like our one Node process
    '--log-file=stdout',
    '--simple-log',
    `--pidfile=${join(scratch, `turnserver-${port}.pid`)}`,
    `--db=${join(scratch, 'turndb')}`,
  ]);
  const child: LineChild = spawnLineChild(command, args);
  await waitUntilAnswering(port, 10_000);
  context.log(`coturn pid ${child.child.pid} on udp://${HOST}:${port}`);
  return { name: 'coturn', pid: child.child.pid!, port, stop: () => child.stop() };
}

async function measure(peer: Peer, config: LoadConfig, cores: Cores): Promise<RunFigures> {
  const [command, args] = pinnedCommand(cores?.generator, process.execPath, [
    join(distDir, 'stun', 'load-generator.js'),
    JSON.stringify(config),
  ]);
  const generator = spawnLineChild(command, args);
  const budget = config.warmupMs + config.measureMs + 10_000;
  try {
    const started = await generator.nextJson(budget);
    if (started.phase !== 'measuring') throw new Error('load generator out of step');
    const cpuBefore = processCpuSeconds(peer.pid);
    const done = await generator.nextJson(budget);
    const cpuAfter = processCpuSeconds(peer.pid);
    return { ...(done.result as LoadResult), serverCpuSeconds: cpuAfter - cpuBefore };
  } finally {
    await generator.stop();
  }
}

interface Summary {
  answeredPerSecond: Spread;
  p50Us: Spread;
  p99Us: Spread;
  serverCpuPercent: Spread;
  answersPerServerCpuSecond: Spread;
  generatorCpuPercent: Spread;
  lost: number;
}

function summarise(runs: RunFigures[]): Summary {
  return {
    answeredPerSecond: spread(runs.map((r) => r.answeredPerSecond)),
    p50Us: spread(runs.map((r) => r.p50Us)),
    p99Us: spread(runs.map((r) => r.p99Us)),
    serverCpuPercent: spread(runs.map((r) => (100 * r.serverCpuSeconds) / (r.measuredMs / 1000))),
    answersPerServerCpuSecond: spread(runs.map((r) => r.answered / Math.max(0.01, r.serverCpuSeconds))),
    generatorCpuPercent: spread(runs.map((r) => (100 * r.generatorCpuSeconds) / (r.measuredMs / 1000))),
    lost: runs.reduce((sum, r) => sum + r.lost, 0),
  };
}

async function run(context: BenchmarkContext): Promise<BenchmarkReport> {
  const size = context.smoke ? SIZES.smoke : SIZES.full;
  // The server under test on one CPU, the generator on another; no pinning with a single CPU.
  const [serverCpu, generatorCpu] = allowedCpus();
  const cores: Cores =
    serverCpu !== undefined && generatorCpu !== undefined
      ? { server: String(serverCpu), generator: String(generatorCpu) }
      : undefined;
  const turnserver = requireTool('turnserver', 'coturn', context.log);
  const profileDir = context.profile ? join(context.resultsDir, 'profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  const peers: Peer[] = [await startOurs(context, cores, profileDir)];
  if (turnserver) peers.push(await startCoturn(context, cores, turnserver));
  else context.log('coturn (turnserver) not installed: measuring buddylink alone, no ratio');

  const figures = new Map<string, RunFigures[]>();
  try {
    for (let runIndex = 0; runIndex < context.runs; runIndex++) {
      for (const load of LOADS) {
        // Interleave, and alternate who goes first, so that slow drifts of a shared machine cancel out.
        const order = runIndex % 2 === 0 ? peers : [...peers].reverse();
        for (const peer of order) {
          const config: LoadConfig = {
            host: HOST,
            port: peer.port,
            sockets: load.sockets,
            window: load.window,
            ...size,
          };
          const result = await measure(peer, config, cores);
          const key = `${load.name}|${peer.name}`;
          figures.set(key, [...(figures.get(key) ?? []), result]);
          context.log(
            `run ${runIndex + 1}/${context.runs} ${load.name} ${peer.name}: ${Math.round(result.answeredPerSecond)}/s p50 ${Math.round(result.p50Us)} µs p99 ${Math.round(result.p99Us)} µs`,
          );
        }
      }
    }
  } finally {
    for (const peer of peers) await peer.stop();
  }

  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  const summaries: Record<string, Summary> = {};
  const pairedRatios: Record<string, Record<string, string>> = {};
  for (const load of LOADS) {
    for (const peer of peers) {
      const summary = summarise(figures.get(`${load.name}|${peer.name}`) ?? []);
      summaries[`${load.name}|${peer.name}`] = summary;
      rows.push([
        load.name,
        peer.name,
        formatSpread(summary.answeredPerSecond),
        formatSpread(summary.p50Us),
        formatSpread(summary.p99Us),
        formatSpread(summary.serverCpuPercent),
        formatSpread(summary.answersPerServerCpuSecond),
        formatSpread(summary.generatorCpuPercent),
        summary.lost,
      ]);
    }
    const ours = figures.get(`${load.name}|buddylink`);
    const theirs = figures.get(`${load.name}|coturn`);
    if (ours && theirs) {
      // Runs are interleaved, so run i of each peer saw the same moment of a shared, noisy machine:
      // the ratio within each pair is steadier than the ratio of the two medians.
      const paired = (pick: (r: RunFigures) => number): string =>
        formatSpread(spread(ours.map((r, i) => pick(r) / pick(theirs[i] ?? r))), 2);
      const ratios = {
        answeredPerSecond: paired((r) => r.answeredPerSecond),
        p50: paired((r) => r.p50Us),
        p99: paired((r) => r.p99Us),
        answersPerCpuSecond: paired((r) => r.answered / Math.max(0.01, r.serverCpuSeconds)),
      };
      pairedRatios[load.name] = ratios;
      notes.push(
        `${load.name}, ours/coturn, median (min–max) of per-run pairs: answered/s ${ratios.answeredPerSecond}; ` +
          `answers per server CPU-second ${ratios.answersPerCpuSecond}; p50 ${ratios.p50}, p99 ${ratios.p99} (latency: lower is better)`,
      );
    }
  }

  let hot: ReturnType<typeof hottestFunctions> = [];
  if (profileDir) {
    const profile = newestProfile(profileDir);
    if (profile) {
      hot = hottestFunctions(profile);
      notes.push(`CPU profile of our server: ${profile}`);
      for (const f of hot) notes.push(`  self ${f.selfPercent.toFixed(1)}% ${f.name} ${f.where}`);
    }
  }

  return {
    title: 'STUN Binding: buddylink vs coturn',
    setup: [
      cores
        ? `server under test pinned to CPU ${cores.server} (taskset), coturn with --relay-threads=1; load generator (Node, separate process) pinned to CPU ${cores.generator}`
        : 'fewer than 2 CPUs: no pinning; server and generator share the CPU',
      `loopback ${HOST}, 28-byte Binding requests with FINGERPRINT, closed loop; warm-up ${size.warmupMs} ms, measured ${size.measureMs} ms, ${context.runs} runs interleaved; loss timeout ${size.lossTimeoutMs} ms`,
      'figures: median (min–max) over runs; latencies are request→answer round trips measured by the generator',
    ],
    columns: [
      'load',
      'server',
      'answered/s',
      'p50 µs',
      'p99 µs',
      'server CPU %',
      'answers per server CPU-s',
      'generator CPU %',
      'lost',
    ],
    rows,
    notes,
    data: {
      size,
      loads: LOADS,
      cores: cores ?? null,
      summaries,
      pairedRatios,
      runs: Object.fromEntries(figures),
      hot,
    },
  };
}

export const stunBenchmark: Benchmark = {
  name: 'stun',
  description: 'STUN Binding requests answered per second and p50/p99 latency, buddylink vs coturn',
  run,
};
