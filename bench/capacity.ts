import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js';
import { formatSpread, type Spread, spread } from './harness/stats.js';
import { defaultPopulationRoot, preparePopulation } from './load-accounts.js';
import { type PerClientShare, perClientShares } from './load-heap.js';
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

/**
 * Issue 6, row 3: logged-on clients one server process holds (WebSocket, idle, presence on) and the
 * memory each costs, against a bare `ws` echo server as the floor (goals: ≥ 100,000 clients; ≤ 2× the
 * floor's bytes per connection).
 *
 * Held constant: the same generator, the same client count and steps, the same source addresses
 * (127.x.y.z, two clients per address), one message exchanged per connection before it idles (a token
 * logon for buddylink, which also announces presence to up to 4 online buddies; one echo for the floor),
 * garbage collected before every reading, server on CPU 0 and generator on CPU 1, runs interleaved
 * buddylink/floor with alternating order. Memory per client is the slope of a least-squares line through
 * the readings at 0, ¼, ½, ¾ and all of the clients, so that one-off costs (code, listeners, SQLite
 * cache) do not count as per-client cost.
 */

const BUDDIES_PER_SIDE = 2;
const GOAL_CLIENTS = 100_000;
const GOAL_RATIO = 2;

const SIZES = {
  full: { clients: GOAL_CLIENTS, steps: 4, settleMs: 1_000, probe: 200, connectConcurrency: 256, maxRuns: 3 },
  smoke: { clients: 300, steps: 2, settleMs: 100, probe: 20, connectConcurrency: 64, maxRuns: 2 },
} as const;

type Kind = 'buddylink' | 'ws-floor';
const KINDS: readonly Kind[] = ['buddylink', 'ws-floor'];

interface Reading {
  clients: number;
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

interface RunFigures {
  kind: Kind;
  held: number;
  readings: Reading[];
  rssPerClient: number;
  heapPerClient: number;
  externalPerClient: number;
  connectsPerSecond: number;
  probeAnswered: number;
  probeAsked: number;
  serverCount: number;
  /** With --profile: heap bytes per client by constructor, from two heap snapshots. */
  heapShares: PerClientShare[];
}

/** Least-squares slope of y over x. */
function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

function toReading(clients: number, m: NodeJS.MemoryUsage): Reading {
  return { clients, rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

async function measureOnce(
  context: BenchmarkContext,
  kind: Kind,
  clients: number,
  steps: number,
  dataDir: string,
  pin: boolean,
  snapshotDir: string | undefined,
): Promise<RunFigures> {
  const size = context.smoke ? SIZES.smoke : SIZES.full;
  const server = await startServerChild(
    kind === 'buddylink'
      ? { kind, host: LOOPBACK, dataDir, options: benchServerOptions() }
      : { kind, host: LOOPBACK },
    { pin },
  );
  const generator = startGeneratorChild(pin);
  try {
    const readings: Reading[] = [toReading(0, await server.memory())];
    // With --profile: heap snapshots before the clients and after the first step, to say which objects
    // the bytes per client are (bench/load-heap.ts).
    const snapshots = snapshotDir
      ? {
          before: join(snapshotDir, `${kind}-0.heapsnapshot`),
          after: join(snapshotDir, `${kind}-1.heapsnapshot`),
        }
      : undefined;
    if (snapshots) {
      mkdirSync(snapshotDir!, { recursive: true });
      await server.process.request({ cmd: 'heap-snapshot', path: snapshots.before }, 300_000);
    }
    let heapShares: PerClientShare[] = [];
    let connectMs = 0;
    let held = 0;
    for (let step = 1; step <= steps; step++) {
      const target = Math.round((clients * step) / steps);
      const outcome = await generator.request(
        {
          cmd: 'connect',
          url: server.ws,
          mode: kind === 'buddylink' ? 'logon' : 'echo',
          from: held,
          to: target,
          concurrency: size.connectConcurrency,
        },
        1_800_000,
      );
      connectMs += Number(outcome.ms);
      held = Number(outcome.held);
      if (Number(outcome.failed) > 0)
        throw new Error(
          `${kind}: ${String(outcome.failed)} of ${target} clients failed (${String(outcome.firstError)})`,
        );
      // Idle, as the row asks: let the logon's presence events and the handshakes' garbage settle.
      await new Promise((resolve) => setTimeout(resolve, size.settleMs));
      readings.push(toReading(held, await server.memory()));
      if (snapshots && step === 1) {
        await server.process.request({ cmd: 'heap-snapshot', path: snapshots.after }, 300_000);
        heapShares = perClientShares(snapshots.before, snapshots.after, held, 12);
        rmSync(snapshots.before);
        rmSync(snapshots.after);
      }
      context.log(
        `${kind}: ${held.toLocaleString('en-US')} clients held, server RSS ${(readings[readings.length - 1]!.rss / 2 ** 20).toFixed(0)} MiB, heap ${(readings[readings.length - 1]!.heapUsed / 2 ** 20).toFixed(0)} MiB`,
      );
    }
    const stats = await server.stats();
    const probe = await generator.request({ cmd: 'probe', count: size.probe }, 120_000);
    const serverCount = kind === 'buddylink' ? stats.devicesOnline : stats.connections;
    if (serverCount !== held)
      throw new Error(`${kind}: the server counts ${serverCount} clients, the generator holds ${held}`);
    const per = (field: keyof Reading): number => slope(readings.map((r) => ({ x: r.clients, y: r[field] })));
    return {
      kind,
      held,
      readings,
      rssPerClient: per('rss'),
      heapPerClient: per('heapUsed'),
      externalPerClient: per('external'),
      connectsPerSecond: held / (connectMs / 1000),
      probeAnswered: Number(probe.answered),
      probeAsked: Number(probe.asked),
      heapShares,
      serverCount,
    };
  } finally {
    await generator.stop();
    await server.stop();
  }
}

interface Summary {
  held: number;
  rssPerClient: Spread;
  heapPerClient: Spread;
  externalPerClient: Spread;
  rssAtHeldMiB: Spread;
  heapAtHeldMiB: Spread;
  connectsPerSecond: Spread;
  probe: string;
}

function summarise(runs: readonly RunFigures[]): Summary {
  const last = (r: RunFigures): Reading => r.readings[r.readings.length - 1]!;
  return {
    held: Math.min(...runs.map((r) => r.held)),
    rssPerClient: spread(runs.map((r) => r.rssPerClient)),
    heapPerClient: spread(runs.map((r) => r.heapPerClient)),
    externalPerClient: spread(runs.map((r) => r.externalPerClient)),
    rssAtHeldMiB: spread(runs.map((r) => last(r).rss / 2 ** 20)),
    heapAtHeldMiB: spread(runs.map((r) => last(r).heapUsed / 2 ** 20)),
    connectsPerSecond: spread(runs.map((r) => r.connectsPerSecond)),
    probe: `${runs.reduce((s, r) => s + r.probeAnswered, 0)}/${runs.reduce((s, r) => s + r.probeAsked, 0)}`,
  };
}

async function run(context: BenchmarkContext): Promise<BenchmarkReport> {
  const size = context.smoke ? SIZES.smoke : SIZES.full;
  const pin = pinningAvailable();
  const { limit, fileLimit } = maxConnectionsPerProcess();
  const clients = size.clients <= limit ? size.clients : Math.floor(limit / 1000) * 1000;
  // Each run holds up to 100,000 connections per server and takes minutes; memory readings after a
  // forced GC vary by a few percent between runs, so a few runs show the spread well enough.
  const runs = Math.min(context.runs, size.maxRuns);
  const population = await preparePopulation(defaultPopulationRoot(), clients, BUDDIES_PER_SIDE);
  context.log(
    `population ${clients} users: ${population.created ? `built in ${population.createMs} ms` : 'reused'}`,
  );

  const loadBefore = loadavg();
  const figures: RunFigures[] = [];
  // With --profile, first an unmeasured pass per server with heap snapshots (writing one inflates RSS,
  // so it must not fall between the readings of a measured run), at the size of one step.
  const heapShares: Partial<Record<Kind, PerClientShare[]>> = {};
  if (context.profile) {
    for (const kind of KINDS) {
      const snapshotDir = join(context.resultsDir, 'profiles');
      const pass = Math.round(clients / size.steps);
      heapShares[kind] = (
        await measureOnce(context, kind, pass, 1, population.dataDir, pin, snapshotDir)
      ).heapShares;
    }
  }
  for (let runIndex = 0; runIndex < runs; runIndex++) {
    const order = runIndex % 2 === 0 ? KINDS : [...KINDS].reverse();
    for (const kind of order) {
      const result = await measureOnce(
        context,
        kind,
        clients,
        size.steps,
        population.dataDir,
        pin,
        undefined,
      );
      figures.push(result);
      context.log(
        `run ${runIndex + 1}/${runs} ${kind}: ${result.held} held, ${Math.round(result.rssPerClient)} B RSS and ${Math.round(result.heapPerClient)} B heap per client`,
      );
    }
  }

  const summaries = Object.fromEntries(
    KINDS.map((kind) => [kind, summarise(figures.filter((f) => f.kind === kind))]),
  ) as Record<Kind, Summary>;
  const rows = KINDS.map((kind) => {
    const s = summaries[kind];
    return [
      kind === 'buddylink' ? 'buddylink (logged on, presence on)' : 'bare ws echo (floor)',
      s.held.toLocaleString('en-US'),
      formatSpread(s.rssPerClient),
      formatSpread(s.heapPerClient),
      formatSpread(s.externalPerClient),
      formatSpread(s.rssAtHeldMiB),
      formatSpread(s.heapAtHeldMiB),
      formatSpread(s.connectsPerSecond),
      s.probe,
    ];
  });

  const ours = summaries.buddylink;
  const floor = summaries['ws-floor'];
  const rssRatio = ours.rssPerClient.median / floor.rssPerClient.median;
  const heapRatio = ours.heapPerClient.median / floor.heapPerClient.median;
  const notes: string[] = [
    sharedMachineNote(loadBefore),
    `bytes per connection, buddylink / bare ws: RSS ×${rssRatio.toFixed(2)}, heap ×${heapRatio.toFixed(2)} (goal ≤ ×${GOAL_RATIO}): ${rssRatio <= GOAL_RATIO ? 'met' : 'missed'} on RSS, ${heapRatio <= GOAL_RATIO ? 'met' : 'missed'} on heap`,
    context.smoke
      ? `smoke run: ${ours.held} clients only, to prove the benchmark runs`
      : ours.held >= GOAL_CLIENTS
        ? `held ${ours.held.toLocaleString('en-US')} logged-on clients (goal ≥ ${GOAL_CLIENTS.toLocaleString('en-US')}): met`
        : `held ${ours.held.toLocaleString('en-US')} logged-on clients, every one verified (goal ≥ ${GOAL_CLIENTS.toLocaleString('en-US')}): not demonstrable on this machine: its open-file hard limit is ${fileLimit} per process (one descriptor per connection; raising it needs CAP_SYS_RESOURCE). At ${Math.round(ours.rssPerClient.median).toLocaleString('en-US')} B RSS per client, ${GOAL_CLIENTS.toLocaleString('en-US')} clients would need about ${((ours.rssAtHeldMiB.median + ((GOAL_CLIENTS - ours.held) * ours.rssPerClient.median) / 2 ** 20) / 1024).toFixed(1)} GiB of server RSS`,
    ...KINDS.flatMap((kind) => {
      const shares = heapShares[kind] ?? [];
      if (shares.length === 0) return [];
      const list = shares
        .filter((share) => share.bytesPerClient >= 16)
        .map(
          (share) =>
            `${share.what} ${Math.round(share.bytesPerClient)} B (${share.objectsPerClient.toFixed(1)})`,
        )
        .join(', ');
      return [
        `${kind} heap per client by constructor (self size, objects per client), from two heap snapshots: ${list}`,
      ];
    }),
    `runs: ${runs} per server (each holds ${clients.toLocaleString('en-US')} connections; ${context.smoke ? 'smoke' : 'memory after a forced GC varies little between runs'})`,
  ];
  return {
    title: 'Clients one server process holds, and memory per client, vs a bare ws echo server',
    setup: [
      pin
        ? `server process (buddylink via startServer, or the floor) pinned to CPU ${SERVER_CPUS}, alone in its process; load generator (Node, separate process) pinned to CPU ${GENERATOR_CPUS}`
        : 'fewer than 2 CPUs: no pinning',
      `${clients.toLocaleString('en-US')} WebSocket clients from 127.x.y.z source addresses (two per address), connected in ${size.steps} steps, idle after one exchange: buddylink clients log on with a session token (accounts written through src/store, ${2 * BUDDIES_PER_SIDE} accepted ring buddies each, presence on); floor clients send one echo`,
      'buddylink server options: defaults except --log-level warn; floor: `ws` WebSocketServer on an http server, default options, echo on message',
      'per client = least-squares slope of the server process memory (after global.gc()) over the clients held; RSS includes everything the process maps; kernel socket buffers are outside both processes',
      'figures: median (min–max) over runs',
    ],
    columns: [
      'server',
      'clients held',
      'RSS B/client',
      'heap B/client',
      'external B/client',
      'RSS MiB at held',
      'heap MiB at held',
      'connects/s',
      'probe answered',
    ],
    rows,
    notes,
    data: { size, clients, fileLimit, connectionLimit: limit, runs: figures, summaries, heapShares },
  };
}

export const capacityBenchmark: Benchmark = {
  name: 'capacity',
  description: 'logged-on clients one server holds and memory per client, vs a bare ws echo server',
  run,
};
