import { controlPortOf, type HostBytes, installCounters, readCounters, resetCounters } from './counters.js';
import {
  type BenchPath,
  ICE_SIGNALLING,
  type IceSignalling,
  INTERNET_DELAY_MS,
  LIMITS,
  type PATH_TOPOLOGIES,
} from './options.js';
import { type IcePair, pause, World, type WorldOptions } from './world.js';

/**
 * Repeated connects between alice and bob in one lab, ours and ICE interleaved (alternating who goes
 * first, so drifts of a shared machine hit both), with the bytes each side sent when asked.
 * Used by bench/lab-connect.ts (times) and bench/lab-setup-bytes.ts (bytes).
 */

export interface SideBytes {
  alice: HostBytes;
  bob: HostBytes;
}

export interface OurConnect {
  path: string;
  /** connect() called → connect() resolved (the buddy's key verified, path chosen). */
  connectedMs: number;
  /** connect() called → the responder's first byte read from the verified stream. */
  firstByteMs: number;
  attempts: unknown;
  bytes?: SideBytes;
  /** With tracing: each step of both sides ("alice: …", "bob: …"), ms after connect() was called. */
  steps?: Record<string, number>;
}

export interface IceConnect {
  /** PeerConnection created → data channel open (offerer). */
  openMs: number;
  /** PeerConnection created → the answerer's first message received (offerer). */
  firstMessageMs: number;
  local: string;
  remote: string;
  bytes?: SideBytes;
  /** Pipe signalling: descriptions and candidates as JSON text (what a signalling server would carry). */
  signalPayloadBytes: number;
}

export interface ConnectSeries {
  ours: OurConnect[];
  ice: Record<IceSignalling, IceConnect[]>;
}

async function countedWindow<T>(
  world: World,
  countBytes: boolean,
  body: () => Promise<T>,
): Promise<{ result: T; bytes?: SideBytes }> {
  if (countBytes) await Promise.all([resetCounters(world.lab, 'alice'), resetCounters(world.lab, 'bob')]);
  const result = await body();
  if (!countBytes) return { result };
  // Trailing packets of the setup (a punch still in flight, ICE checks on other pairs) count too.
  await pause(LIMITS.bytesSettleMs);
  const [alice, bob] = await Promise.all([readCounters(world.lab, 'alice'), readCounters(world.lab, 'bob')]);
  return { result, bytes: { alice, bob } };
}

export async function measureConnects(
  world: World,
  plan: {
    path: BenchPath;
    force: boolean;
    withIce: boolean;
    warmups: number;
    runs: number;
    countBytes: boolean;
    trace?: boolean;
  },
  log: (line: string) => void,
): Promise<ConnectSeries> {
  if (plan.countBytes) {
    const [alicePort, bobPort] = await Promise.all([
      controlPortOf(world.lab, 'alice'),
      controlPortOf(world.lab, 'bob'),
    ]);
    await Promise.all([
      installCounters(world.lab, 'alice', alicePort),
      installCounters(world.lab, 'bob', bobPort),
    ]);
  }
  const pairs: [IceSignalling, IcePair][] = [];
  if (plan.withIce) for (const mode of ICE_SIGNALLING) pairs.push([mode, await world.startIce(mode)]);
  const series: ConnectSeries = { ours: [], ice: { pipe: [], server: [] } };

  const ours = async (): Promise<OurConnect> => {
    const { result, bytes } = await countedWindow(world, plan.countBytes, async () => {
      world.alice.send({ cmd: 'connect', buddy: 'bob', path: plan.force ? plan.path : 'auto', bytes: 0 });
      return world.alice.next('connected', LIMITS.connectTimeoutMs);
    });
    // A run that ends elsewhere (the LAN try timed out on a loaded machine) is what the user got:
    // it stays in the series and the report names it, rather than aborting the benchmark.
    if (result.path !== plan.path)
      log(`${plan.path}: this run ended on ${String(result.path)}: ${JSON.stringify(result.attempts)}`);
    const steps = plan.trace ? await bothTraces(world, result.trace) : undefined;
    return {
      path: String(result.path),
      connectedMs: Number(result.connectedMs),
      firstByteMs: Number(result.firstByteMs),
      attempts: result.attempts,
      ...(bytes ? { bytes } : {}),
      ...(steps ? { steps } : {}),
    };
  };

  const theirs = async (ice: IcePair, run: number): Promise<IceConnect> => {
    ice.signalBytes();
    const { result, bytes } = await countedWindow(world, plan.countBytes, async () => {
      ice.offerer.send({ cmd: 'start', run });
      return ice.offerer.next('first-message', LIMITS.connectTimeoutMs);
    });
    const signalPayloadBytes = ice.signalBytes();
    await ice.offerer.next('open', 1000).catch(() => undefined);
    ice.offerer.send({ cmd: 'close' });
    ice.answerer.send({ cmd: 'close' });
    await Promise.all([ice.offerer.next('closed', 5000), ice.answerer.next('closed', 5000)]);
    return {
      openMs: Number(result.openMs),
      firstMessageMs: Number(result.firstMessageMs),
      local: String(result.local),
      remote: String(result.remote),
      signalPayloadBytes,
      ...(bytes ? { bytes } : {}),
    };
  };

  const total = plan.warmups + plan.runs;
  for (let i = 0; i < total; i++) {
    const warm = i < plan.warmups;
    const label = warm ? `warm-up ${i + 1}` : `run ${i - plan.warmups + 1}/${plan.runs}`;
    const steps: (() => Promise<void>)[] = [
      async () => {
        const r = await ours();
        if (!warm) series.ours.push(r);
        log(
          `${plan.path} ${label} buddylink: connected ${r.connectedMs.toFixed(0)} ms, first byte ${r.firstByteMs.toFixed(0)} ms`,
        );
      },
    ];
    for (const [mode, pair] of pairs) {
      steps.push(async () => {
        const r = await theirs(pair, i);
        if (!warm) series.ice[mode].push(r);
        log(
          `${plan.path} ${label} ICE (${mode} signalling): open ${r.openMs.toFixed(0)} ms, first message ${r.firstMessageMs.toFixed(0)} ms (${r.local}/${r.remote})`,
        );
      });
    }
    if (i % 2 === 1) steps.reverse();
    for (const step of steps) {
      await step();
      await pause(LIMITS.betweenRunsMs);
    }
  }
  return series;
}

/** Alice's steps (from her `connected` line) and bob's (asked for now), ms after connect() was called. */
async function bothTraces(world: World, aliceTrace: unknown): Promise<Record<string, number>> {
  world.bob.send({ cmd: 'trace' });
  const bob = (await world.bob.next('trace', LIMITS.startTimeoutMs)).events as Record<string, number>;
  const alice = (aliceTrace ?? {}) as Record<string, number>;
  const origin = alice['connect() called'];
  if (origin === undefined) return {};
  const steps: [string, number][] = [
    ...Object.entries(alice).map(([name, at]): [string, number] => [`alice: ${name}`, at - origin]),
    ...Object.entries(bob).map(([name, at]): [string, number] => [`bob: ${name}`, at - origin]),
  ];
  // Bob's clock starts with a step of an earlier run when a loser finished late: keep this run's.
  return Object.fromEntries(steps.filter(([, ms]) => ms >= 0).sort((a, b) => a[1] - b[1]));
}

/**
 * One lab per path (its topology, `delayMs` on the internet links, cold address discovery), the
 * connect series measured in it, the lab always torn down. Shared by lab-connect (times) and
 * lab-setup-bytes.
 */
export async function measureEachPath(
  paths: readonly (typeof PATH_TOPOLOGIES)[number][],
  plan: {
    warmups: number;
    runs: number;
    countBytes: boolean;
    agentNodeArgs?: WorldOptions['agentNodeArgs'];
    delayMs?: number;
    trace?: boolean;
    /** The agents' global-address cache lifetime; 0 (default) asks STUN on every connect. */
    globalAddressTtlMs?: number;
  },
  log: (line: string) => void,
): Promise<{ results: Record<string, ConnectSeries>; delayModes: Set<string> }> {
  const results: Record<string, ConnectSeries> = {};
  const delayModes = new Set<string>();
  const delayMs = plan.delayMs ?? INTERNET_DELAY_MS;
  for (const p of paths) {
    const world = await World.open({
      topology: p.topology,
      delayMs,
      globalAddressTtlMs: plan.globalAddressTtlMs ?? 0,
      trace: plan.trace === true,
      ...(plan.agentNodeArgs ? { agentNodeArgs: plan.agentNodeArgs } : {}),
    });
    try {
      delayModes.add(world.delayMode);
      log(`${p.path}: lab ${p.topology}+${delayMs}ms up (${world.lab.runId})`);
      results[p.path] = await measureConnects(
        world,
        {
          path: p.path,
          force: p.force,
          withIce: p.path !== 'relay',
          warmups: plan.warmups,
          runs: plan.runs,
          countBytes: plan.countBytes,
          trace: plan.trace === true,
        },
        log,
      );
    } finally {
      await world.close();
    }
  }
  return { results, delayModes };
}
