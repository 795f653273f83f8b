import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js';
import { hottestFunctions } from './harness/cpu-profile.js';
import { processCpuSeconds } from './harness/processes.js';
import { formatSpread, type Spread, spread } from './harness/stats.js';
import { defaultPopulationRoot, preparePopulation } from './load-accounts.js';
import type { JudgeLoad, JudgeResult } from './load-generator.js';
import {
  benchServerOptions,
  GENERATOR_CPUS,
  LOOPBACK,
  maxConnectionsPerProcess,
  pinningAvailable,
  SERVER_CPUS,
  sharedMachineNote,
  startGeneratorChild,
  startServerChild,
} from './load-plan.js';
import { type InclusiveTime, inclusiveTimes } from './load-profile.js';

/**
 * Issue 6, row 2: same-NAT judgements (S21–S24) per second and p50/p99 latency while N clients are
 * logged on, for growing N (goal: p99 < 5 ms at 50,000; flat in N).
 *
 * Held constant across N: the asking clients (the same number of askers, each asking about its own
 * accepted ring buddies in turn), the loads (closed loop with a fixed window; an open loop at a fixed
 * rate), the buddy graph's degree (4 accepted buddies per user, all online, presence on), the server's
 * options, one core for the server (CPU 0) and one for the generator (CPU 1). Only N changes.
 */

const BUDDIES_PER_SIDE = 2;

const SIZES = {
  full: {
    populations: [1_000, 5_000, 10_000, 50_000],
    askers: 1_000,
    window: 32,
    ratePerSecond: 1_000,
    warmupMs: 1_000,
    measureMs: 3_000,
    maxRequests: 2_000_000,
    connectConcurrency: 256,
  },
  smoke: {
    populations: [100, 300],
    askers: 50,
    window: 8,
    ratePerSecond: 500,
    warmupMs: 150,
    measureMs: 400,
    maxRequests: 100_000,
    connectConcurrency: 64,
  },
} as const;

type Size = (typeof SIZES)[keyof typeof SIZES];

interface LoadShape {
  readonly key: 'closed' | 'paced' | 'single';
  readonly mode: JudgeLoad['mode'];
  readonly window: (size: Size) => number;
  readonly label: (size: Size) => string;
}

/** Saturation (throughput), a fixed offered rate (latency under load), one at a time (latency alone). */
const LOADS: readonly LoadShape[] = [
  {
    key: 'closed',
    mode: 'closed',
    window: (s) => s.window,
    label: (s) => `saturated (${s.window} in flight)`,
  },
  {
    key: 'paced',
    mode: 'paced',
    window: (s) => s.window,
    label: (s) => `paced ${s.ratePerSecond.toLocaleString('en-US')}/s`,
  },
  { key: 'single', mode: 'closed', window: () => 1, label: () => 'unloaded (1 in flight)' },
];

interface RunFigures extends JudgeResult {
  serverCpuSeconds: number;
  /** Longest event-loop delay of the server in the measured window (µs). */
  serverLoopDelayMaxUs: number;
}

interface PopulationFigures {
  users: number;
  logonsPerSecond: number;
  devicesOnline: number;
  eventsSeen: number;
  runs: Record<string, RunFigures[]>;
}

/** The sizes that fit this machine: above the per-process connection limit they are skipped, and said so. */
function sizesThatFit(wanted: readonly number[], limit: number): { run: number[]; skipped: number[] } {
  const run = wanted.filter((n) => n <= limit);
  const skipped = wanted.filter((n) => n > limit);
  // The largest N this machine allows, so that the trend reaches as far as it can.
  if (skipped.length > 0) {
    const largest = Math.floor(limit / 1000) * 1000;
    if (largest > (run[run.length - 1] ?? 0)) run.push(largest);
  }
  return { run, skipped };
}

/** Askers spread evenly over the population, the same count for every N. */
function askersOf(users: number, count: number): number[] {
  const n = Math.min(users, count);
  const step = users / n;
  return Array.from({ length: n }, (_, i) => Math.floor(i * step));
}

async function measurePopulation(
  context: BenchmarkContext,
  size: Size,
  users: number,
  pin: boolean,
  profilePath: string | undefined,
): Promise<PopulationFigures> {
  const population = await preparePopulation(defaultPopulationRoot(), users, BUDDIES_PER_SIDE);
  context.log(
    `population ${users} users: ${population.created ? `built in ${population.createMs} ms` : 'reused'} (${population.dataDir})`,
  );
  const server = await startServerChild(
    {
      kind: 'buddylink',
      host: LOOPBACK,
      dataDir: population.dataDir,
      options: benchServerOptions({ messagesPerSecond: 1_000_000, messageBurst: 1_000_000 }),
    },
    { pin },
  );
  const generator = startGeneratorChild(pin);
  try {
    const connect = await generator.request(
      {
        cmd: 'connect',
        url: server.ws,
        mode: 'logon',
        from: 0,
        to: users,
        concurrency: size.connectConcurrency,
      },
      600_000,
    );
    const stats = await server.stats();
    if (connect.failed !== 0 || stats.devicesOnline !== users)
      throw new Error(
        `only ${stats.devicesOnline}/${users} logged on (${String(connect.failed)} failed: ${String(connect.firstError)})`,
      );
    const logonsPerSecond = users / (Number(connect.ms) / 1000);
    const probe = await generator.request({ cmd: 'probe', count: 10 }, 60_000);
    context.log(
      `N=${users}: ${users} logged on in ${Math.round(Number(connect.ms))} ms (${Math.round(logonsPerSecond)}/s), server counts ${stats.devicesOnline} devices; ${String(probe.events)} presence events seen`,
    );
    const runs: Record<string, RunFigures[]> = {};
    if (profilePath) await server.profileStart();
    for (let runIndex = 0; runIndex < context.runs; runIndex++) {
      for (const load of LOADS) {
        const command: JudgeLoad & { cmd: string } & Record<string, unknown> = {
          cmd: 'judge',
          mode: load.mode,
          askers: askersOf(users, size.askers),
          users,
          buddiesPerSide: BUDDIES_PER_SIDE,
          window: load.window(size),
          ratePerSecond: size.ratePerSecond,
          warmupMs: size.warmupMs,
          measureMs: size.measureMs,
          maxRequests: size.maxRequests,
        };
        const budget = size.warmupMs + size.measureMs + 30_000;
        const started = await generator.request(command, budget);
        if (started.phase !== 'measuring') throw new Error('generator out of step');
        const cpuBefore = processCpuSeconds(server.process.pid);
        await server.loopDelay(true);
        const done = await generator.next(budget);
        const cpuAfter = processCpuSeconds(server.process.pid);
        const loop = await server.loopDelay(false);
        const result = done.result as JudgeResult;
        const figures = {
          ...result,
          serverCpuSeconds: cpuAfter - cpuBefore,
          serverLoopDelayMaxUs: loop.maxUs,
        };
        runs[load.key] = [...(runs[load.key] ?? []), figures];
        context.log(
          `N=${users} run ${runIndex + 1}/${context.runs} ${load.label(size)}: ${Math.round(result.perSecond)}/s p50 ${Math.round(result.p50Us)} µs p99 ${Math.round(result.p99Us)} µs, refused ${result.refused}, server CPU ${Math.round((100 * figures.serverCpuSeconds) / (result.measuredMs / 1000))}%, server event-loop delay up to ${(loop.maxUs / 1000).toFixed(1)} ms`,
        );
      }
    }
    if (profilePath) await server.profileStop(profilePath);
    return {
      users,
      logonsPerSecond,
      devicesOnline: stats.devicesOnline,
      eventsSeen: Number(probe.events),
      runs,
    };
  } finally {
    await generator.stop();
    await server.stop();
  }
}

interface Summary {
  perSecond: Spread;
  p50Us: Spread;
  p99Us: Spread;
  p999Us: Spread;
  serverCpuPercent: Spread;
  perServerCpuSecond: Spread;
  generatorCpuPercent: Spread;
  /** Paced load: how late the generator sent requests after they were due (not charged to the server). */
  sendLagP99Us: Spread;
  serverLoopDelayMaxUs: Spread;
  refused: number;
}

function summarise(runs: readonly RunFigures[]): Summary {
  const seconds = (r: RunFigures): number => r.measuredMs / 1000;
  return {
    perSecond: spread(runs.map((r) => r.perSecond)),
    p50Us: spread(runs.map((r) => r.p50Us)),
    p99Us: spread(runs.map((r) => r.p99Us)),
    p999Us: spread(runs.map((r) => r.p999Us)),
    serverCpuPercent: spread(runs.map((r) => (100 * r.serverCpuSeconds) / seconds(r))),
    perServerCpuSecond: spread(runs.map((r) => r.answered / Math.max(0.01, r.serverCpuSeconds))),
    generatorCpuPercent: spread(runs.map((r) => (100 * r.generatorCpuSeconds) / seconds(r))),
    sendLagP99Us: spread(runs.map((r) => r.sendLagP99Us ?? Number.NaN)),
    serverLoopDelayMaxUs: spread(runs.map((r) => r.serverLoopDelayMaxUs)),
    refused: runs.reduce((sum, r) => sum + r.refused + r.skipped, 0),
  };
}

async function run(context: BenchmarkContext): Promise<BenchmarkReport> {
  const size = context.smoke ? SIZES.smoke : SIZES.full;
  const pin = pinningAvailable();
  const { limit, fileLimit } = maxConnectionsPerProcess();
  const { run: populations, skipped } = sizesThatFit(size.populations, limit);
  const profilePath = context.profile
    ? join(
        context.resultsDir,
        'profiles',
        `judgement-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`,
      )
    : undefined;

  const loadBefore = loadavg();
  const measured: PopulationFigures[] = [];
  for (const users of populations) {
    // Profile the largest population only: one profile, of the case the goal is about.
    const profile = users === populations[populations.length - 1] ? profilePath : undefined;
    measured.push(await measurePopulation(context, size, users, pin, profile));
  }

  const rows: (string | number)[][] = [];
  const summaries: Record<string, Summary> = {};
  for (const figures of measured) {
    for (const load of LOADS) {
      const summary = summarise(figures.runs[load.key] ?? []);
      summaries[`${figures.users}|${load.key}`] = summary;
      rows.push([
        figures.users.toLocaleString('en-US'),
        load.label(size),
        formatSpread(summary.perSecond),
        formatSpread(summary.p50Us),
        formatSpread(summary.p99Us),
        formatSpread(summary.p999Us),
        formatSpread(summary.serverCpuPercent),
        formatSpread(summary.perServerCpuSecond),
        formatSpread(summary.generatorCpuPercent),
        formatSpread({
          median: summary.serverLoopDelayMaxUs.median / 1000,
          min: summary.serverLoopDelayMaxUs.min / 1000,
          max: summary.serverLoopDelayMaxUs.max / 1000,
          runs: summary.serverLoopDelayMaxUs.runs,
        }),
        summary.refused,
      ]);
    }
  }
  for (const users of skipped) {
    rows.push([users.toLocaleString('en-US'), 'not run', '—', '—', '—', '—', '—', '—', '—', '—', '—']);
  }

  const notes: string[] = [sharedMachineNote(loadBefore)];
  if (skipped.length > 0)
    notes.push(
      `not run: N = ${skipped.map((n) => n.toLocaleString('en-US')).join(', ')}: this machine's open-file hard limit is ${fileLimit} per process (one descriptor per connection on each side; raising it needs CAP_SYS_RESOURCE), so one server process holds at most ~${limit.toLocaleString('en-US')} connections here; the largest N that fits was measured instead`,
    );
  const ms = (us: number): string => (us / 1000).toFixed(2);
  for (const users of measured.map((f) => f.users)) {
    const paced = summaries[`${users}|paced`];
    const single = summaries[`${users}|single`];
    if (!paced || !single) continue;
    const verdict = (us: number): string => (us < 5000 ? 'under 5 ms' : 'over 5 ms');
    notes.push(
      `N=${users.toLocaleString('en-US')}: p99 ${ms(paced.p99Us.median)} ms at ${size.ratePerSecond.toLocaleString('en-US')}/s offered (${verdict(paced.p99Us.median)}; best run ${ms(paced.p99Us.min)} ms; generator send lag p99 ${ms(paced.sendLagP99Us.median)} ms, not included), p99 ${ms(single.p99Us.median)} ms one at a time (${verdict(single.p99Us.median)}; best run ${ms(single.p99Us.min)} ms); goal p99 < 5 ms at 50,000`,
    );
  }
  const first = measured[0];
  const last = measured[measured.length - 1];
  if (first && last && first !== last) {
    const at = (f: PopulationFigures, key: string): Summary | undefined => summaries[`${f.users}|${key}`];
    const ratio = (key: string, pick: (s: Summary) => number): string => {
      const a = at(first, key);
      const b = at(last, key);
      return a && b ? `×${(pick(b) / pick(a)).toFixed(2)}` : 'n/a';
    };
    notes.push(
      `growth from N=${first.users.toLocaleString('en-US')} to N=${last.users.toLocaleString('en-US')} (flat = ×1.00): saturated judgements/s ${ratio('closed', (s) => s.perSecond.median)}, judgements per server CPU-second ${ratio('closed', (s) => s.perServerCpuSecond.median)}, unloaded p50 ${ratio('single', (s) => s.p50Us.median)}, unloaded p99 ${ratio('single', (s) => s.p99Us.median)}, paced p50 ${ratio('paced', (s) => s.p50Us.median)}, paced p99 ${ratio('paced', (s) => s.p99Us.median)}`,
    );
  }
  for (const f of measured)
    notes.push(
      `N=${f.users.toLocaleString('en-US')}: logons ${Math.round(f.logonsPerSecond).toLocaleString('en-US')}/s while connecting; server counted ${f.devicesOnline.toLocaleString('en-US')} devices online; ${f.eventsSeen.toLocaleString('en-US')} presence events reached the clients`,
    );

  let hot: ReturnType<typeof hottestFunctions> = [];
  let inclusive: InclusiveTime[] = [];
  if (profilePath && existsSync(profilePath)) {
    hot = hottestFunctions(profilePath, 15);
    inclusive = inclusiveTimes(profilePath, 30);
    notes.push(
      `CPU profile of the server during the measured runs at N=${last?.users ?? 0} (percent of busy time): ${profilePath}`,
    );
    for (const f of hot) notes.push(`  self ${f.selfPercent.toFixed(1)}% ${f.name} ${f.where}`);
    for (const f of inclusive) notes.push(`  total ${f.totalPercent.toFixed(1)}% ${f.name} ${f.where}`);
  }

  return {
    title: 'Same-NAT judgement under N logged-on clients',
    setup: [
      pin
        ? `server (buddylink, startServer in its own process) pinned to CPU ${SERVER_CPUS}; load generator (Node, separate process) pinned to CPU ${GENERATOR_CPUS}`
        : 'fewer than 2 CPUs: no pinning; server and generator share the CPU',
      `population per N: N accounts (SQLite, written through src/store before start), ${2 * BUDDIES_PER_SIDE} accepted ring buddies each, all N logged on over WebSocket from their own 127.x.y.z (token logon), presence on; pairs of users share a source address so some answers are "same"`,
      `load: ${size.askers.toLocaleString('en-US')} askers (or N, if fewer) spread over the population, each asking sameNat about its own buddies in turn; closed loop with ${size.window} in flight (saturation); open loop at ${size.ratePerSecond.toLocaleString('en-US')}/s (sent when due whether or not earlier ones were answered; latency from the send, the generator's own send lag reported apart); closed loop with 1 in flight (latency alone); warm-up ${size.warmupMs} ms, measured ${size.measureMs} ms, ${context.runs} runs per N`,
      'server options: defaults (including the WebSocket heartbeat, which pings every client every 30 s) except --log-level warn and the per-connection request rate raised to 1,000,000/s (so the few askers are never RATE_LIMITED: the limiter still runs, it just never refuses)',
      "server loop delay = the longest event-loop delay of the server process in the measured window (perf_hooks.monitorEventLoopDelay inside the server's process): its own stalls (a synchronous sweep) and the time it waited for its core on a shared machine, both of which delay every judgement waiting behind them",
      'figures: median (min–max) over runs; latency = request→reply round trip at the generator, in µs',
    ],
    columns: [
      'logged-on N',
      'load',
      'judgements/s',
      'p50 µs',
      'p99 µs',
      'p99.9 µs',
      'server CPU %',
      'per server CPU-s',
      'generator CPU %',
      'server loop delay max ms',
      'refused',
    ],
    rows,
    notes,
    data: {
      size,
      fileLimit,
      connectionLimit: limit,
      skipped,
      summaries,
      populations: measured,
      hot,
      inclusive,
    },
  };
}

export const judgementBenchmark: Benchmark = {
  name: 'judgement',
  description: 'same-NAT judgements per second and p50/p99 latency with N logged-on clients (N up to 50,000)',
  run,
};
