import { Generator } from './generator-protocol.js';
import { InspectorSession } from './inspector.js';
import { alive, cpuPercent, cpuSeconds, fdCount, fdLimit, rssBytes } from './proc.js';

/**
 * The capacity part of the cluster benchmark: several generator processes log on `clients` bench users
 * over every node at once (logons/s of the service), hold them for a while (the nodes' and Redis's CPU
 * while idle clients are merely kept online), prove a sample of them alive, and read each node's
 * descriptors, memory and logged-on gauge.
 */

export interface BenchNode {
  id: string;
  pid: number;
  ws: string;
  http: string;
  /** The node's inspector, to collect garbage before memory is read. */
  inspector: string | undefined;
}

/** RSS and V8 heap in use of a child right after a full garbage collection (heap NaN if it failed). */
export async function settledMemory(pid: number, inspector: InspectorSession) {
  const heap = await inspector.collectGarbage();
  return { rss: rssBytes(pid), heap };
}

export interface HoldOptions {
  nodes: BenchNode[];
  /** First bench user index; users from…from+clients-1 are logged on. */
  from: number;
  clients: number;
  generators: number;
  /** Logons in flight per generator. */
  window: number;
  holdSeconds: number;
  attemptTimeoutMs: number;
  giveUpAfter: number;
  redisPid: number | undefined;
  /** PostgreSQL backends serving the nodes (their pool connections), to charge logons' CPU to them. */
  postgresPids: () => Promise<number[]>;
  /** Runs after the hold while every client is still logged on (shared-state readings). */
  whileHeld: () => Promise<void>;
  log: (line: string) => void;
}

export interface NodeFigures {
  id: string;
  /** Clients the generators hold logged on to this node. */
  held: number;
  /**
   * Logged-on devices by the node's own gauge (/metrics buddylink_devices_online); NaN when the node
   * could not answer: at its descriptor limit it cannot accept the HTTP connection either.
   */
  devicesOnline: number;
  fds: number;
  fdLimit: number;
  rssMiB: number;
  rssGrowthBytesPerClient: number;
  heapMiB: number;
  heapGrowthBytesPerClient: number;
  cpuPercentHold: number;
  alive: boolean;
}

export interface HoldResult {
  attempted: number;
  held: number;
  failed: number;
  skipped: number;
  errors: Record<string, number>;
  /** Nodes a generator gave up on (failures in a row): full. */
  full: string[];
  logonsPerSecond: number;
  logonSeconds: number;
  logonP50Ms: number;
  logonP99Ms: number;
  perGenerator: {
    pid: number;
    held: number;
    failed: number;
    perSecond: number;
    rssMiB: number;
    fds: number;
  }[];
  nodes: NodeFigures[];
  /** Sum of the gauges that answered. */
  devicesOnline: number;
  gaugesUnreachable: number;
  probe: { asked: number; answered: number; open: number };
  redisCpuPercentHold: number | undefined;
  generatorsCpuPercentHold: number;
  rssGrowthBytesPerClient: number;
  heapGrowthBytesPerClient: number;
  /** CPU seconds each part spent during the logon phase, per 1,000 logons, and in % of the phase. */
  logonCpu: Record<'nodes' | 'generators' | 'redis' | 'postgres', { perThousand: number; percent: number }>;
}

/** CPU seconds of each pid now; a pid that is gone counts 0. */
function cpuNow(pids: number[]): Map<number, number> {
  return new Map(
    pids.map((pid) => {
      try {
        return [pid, cpuSeconds(pid)];
      } catch {
        return [pid, 0];
      }
    }),
  );
}

function spent(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, t] of after) sum += t - (before.get(pid) ?? 0);
  return sum;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function devicesOnline(http: string): Promise<number> {
  try {
    const text = await (await fetch(`${http}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    return Number(/^buddylink_devices_online (\d+)/m.exec(text)?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/** Splits `count` items from `from` into `parts` contiguous ranges. */
export function shares(from: number, count: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, g) => [
    from + Math.floor((g * count) / parts),
    from + Math.floor(((g + 1) * count) / parts),
  ]);
}

export async function holdRun(o: HoldOptions): Promise<HoldResult> {
  // Opened before the load: a node at its descriptor limit could not accept the inspector's connection.
  const inspectors = await Promise.all(o.nodes.map((n) => InspectorSession.open(n.inspector)));
  const generators: Generator[] = [];
  try {
    const before = await Promise.all(o.nodes.map((n, i) => settledMemory(n.pid, inspectors[i]!)));
    generators.push(...Array.from({ length: o.generators }, () => new Generator()));
    await Promise.all(generators.map((g) => g.next('ready', 30_000)));
    const progress = generators.map(() => 0);
    generators.forEach((g, i) => {
      g.onProgress = (r) => {
        progress[i] = r.connected;
      };
    });
    const ticker = setInterval(() => {
      o.log(`  … ${progress.reduce((s, c) => s + c, 0)} logged on`);
    }, 10_000);
    // Generous: a full run is ~100 s; a stalled one must still end.
    const lifetimeMs = Math.max(120_000, o.clients * 10) + o.holdSeconds * 1000 + 120_000;
    const ranges = shares(o.from, o.clients, o.generators);
    const groups = {
      nodes: o.nodes.map((n) => n.pid),
      generators: generators.map((g) => g.pid),
      redis: o.redisPid ? [o.redisPid] : [],
      postgres: await o.postgresPids(),
    };
    const cpuBefore = Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, cpuNow(pids)]));
    generators.forEach((g, i) => {
      const [from, to] = ranges[i]!;
      g.send({
        cmd: 'logon',
        urls: o.nodes.map((n) => n.ws),
        from,
        to,
        window: o.window,
        mode: 'logon',
        attemptTimeoutMs: o.attemptTimeoutMs,
        giveUpAfter: o.giveUpAfter,
        lifetimeMs,
      });
    });
    const done = await Promise.all(generators.map((g) => g.next('logged-on', lifetimeMs)));
    clearInterval(ticker);
    groups.postgres = [...new Set([...groups.postgres, ...(await o.postgresPids())])];
    const cpuAfter = Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, cpuNow(pids)]));

    const held = done.reduce((s, d) => s + d.connected, 0);
    const startedAt = Math.min(...done.map((d) => d.startedAt));
    const endedAt = Math.max(...done.map((d) => d.endedAt));
    const logonSeconds = (endedAt - startedAt) / 1000;
    const latencies = Float64Array.from(done.flatMap((d) => d.latencies)).sort();
    const errors: Record<string, number> = {};
    for (const d of done) for (const [k, v] of Object.entries(d.errors)) errors[k] = (errors[k] ?? 0) + v;
    const logonCpu = Object.fromEntries(
      Object.keys(groups).map((k) => {
        const seconds = spent(cpuBefore[k]!, cpuAfter[k]!);
        return [k, { perThousand: (seconds / held) * 1000, percent: (seconds / logonSeconds) * 100 }];
      }),
    ) as HoldResult['logonCpu'];
    o.log(`  ${held} logged on in ${logonSeconds.toFixed(1)} s; holding ${o.holdSeconds} s`);

    // Holding: what keeping idle clients online costs (heartbeats, the online registry's refresh).
    await new Promise((r) => setTimeout(r, 2000));
    const watched = [...o.nodes.map((n) => n.pid), ...generators.map((g) => g.pid), o.redisPid ?? 0];
    const cpu = await cpuPercent(watched, o.holdSeconds * 1000);
    const probes = await Promise.all(
      generators.map((g) => {
        g.send({ cmd: 'probe', count: 200, timeoutMs: 15_000 });
        return g.next('probed', 30_000);
      }),
    );
    const gauges = await Promise.all(o.nodes.map((n) => devicesOnline(n.http)));
    await o.whileHeld();
    const after = await Promise.all(
      o.nodes.map((n, i) =>
        alive(n.pid) ? settledMemory(n.pid, inspectors[i]!) : { rss: Number.NaN, heap: Number.NaN },
      ),
    );
    const nodes = o.nodes.map((n, i): NodeFigures => {
      const up = alive(n.pid);
      const { rss, heap } = after[i]!;
      const onNode = done.reduce((sum, d) => sum + (d.perNode[i] ?? 0), 0);
      return {
        id: n.id,
        held: onNode,
        devicesOnline: gauges[i] ?? Number.NaN,
        fds: up ? fdCount(n.pid) : Number.NaN,
        fdLimit: up ? fdLimit(n.pid) : Number.NaN,
        rssMiB: rss / 2 ** 20,
        rssGrowthBytesPerClient: (rss - before[i]!.rss) / onNode,
        heapMiB: heap / 2 ** 20,
        heapGrowthBytesPerClient: (heap - before[i]!.heap) / onNode,
        cpuPercentHold: cpu[i] ?? Number.NaN,
        alive: up,
      };
    });
    const growth = nodes.reduce((s, n, i) => s + n.rssMiB * 2 ** 20 - before[i]!.rss, 0);
    const heapGrowth = nodes.reduce((s, n, i) => s + n.heapMiB * 2 ** 20 - before[i]!.heap, 0);
    return {
      attempted: o.clients,
      held,
      failed: done.reduce((s, d) => s + d.failed, 0),
      skipped: done.reduce((s, d) => s + d.skipped, 0),
      errors,
      full: [...new Set(done.flatMap((d) => d.full))].map(
        (url) => o.nodes.find((n) => n.ws === url)?.id ?? url,
      ),
      logonsPerSecond: held / logonSeconds,
      logonSeconds,
      logonP50Ms: percentile(latencies, 50),
      logonP99Ms: percentile(latencies, 99),
      perGenerator: done.map((d, i) => ({
        pid: generators[i]!.pid,
        held: d.connected,
        failed: d.failed,
        perSecond: d.connected / ((d.endedAt - d.startedAt) / 1000),
        rssMiB: rssBytes(generators[i]!.pid) / 2 ** 20,
        fds: fdCount(generators[i]!.pid),
      })),
      nodes,
      devicesOnline: gauges.filter(Number.isFinite).reduce((s, g) => s + g, 0),
      gaugesUnreachable: gauges.filter((g) => !Number.isFinite(g)).length,
      probe: {
        asked: probes.reduce((s, p) => s + p.asked, 0),
        answered: probes.reduce((s, p) => s + p.answered, 0),
        open: probes.reduce((s, p) => s + p.open, 0),
      },
      redisCpuPercentHold: o.redisPid ? cpu[watched.length - 1] : undefined,
      generatorsCpuPercentHold: cpu
        .slice(o.nodes.length, o.nodes.length + generators.length)
        .reduce((s, c) => s + c, 0),
      rssGrowthBytesPerClient: growth / held,
      heapGrowthBytesPerClient: heapGrowth / held,
      logonCpu,
    };
  } finally {
    for (const session of inspectors) session.close();
    await Promise.all(generators.map((g) => g.close()));
  }
}

/** The bare `ws` floor (ws-floor.ts, its own process) holding `clients` idle clients from one generator. */
export async function floorRun(
  floorPid: number,
  inspector: string | undefined,
  url: string,
  clients: number,
): Promise<{ clients: number; bytesPerClient: number; heapBytesPerClient: number; rssMiB: number }> {
  await new Promise((r) => setTimeout(r, 500));
  const session = await InspectorSession.open(inspector);
  const g = new Generator();
  try {
    const before = await settledMemory(floorPid, session);
    await g.next('ready', 30_000);
    g.send({
      cmd: 'logon',
      urls: [url],
      from: 0,
      to: clients,
      window: 64,
      mode: 'echo',
      attemptTimeoutMs: 30_000,
      giveUpAfter: 1000,
      lifetimeMs: 600_000,
    });
    const done = await g.next('logged-on', 600_000);
    await new Promise((r) => setTimeout(r, 2000));
    const after = await settledMemory(floorPid, session);
    return {
      clients: done.connected,
      bytesPerClient: (after.rss - before.rss) / done.connected,
      heapBytesPerClient: (after.heap - before.heap) / done.connected,
      rssMiB: after.rss / 2 ** 20,
    };
  } finally {
    session.close();
    await g.close();
  }
}
