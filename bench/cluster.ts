import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { floorBytesPerClient, type Node, reaper, spawnNode } from './cluster/children.js';
import { holdRun } from './cluster/hold.js';
import { latencyPart, printLatency } from './cluster/latency.js';
import { FIRST_HELD, populate } from './cluster/population.js';
import { n0f, printHold } from './cluster/report.js';
import { postgresBackends, postgresTransactions, redisInfo } from './cluster/shared-state.js';
import { describeMachine } from './harness/machine.js';

/**
 * Issue 12's benchmarks, in one run so that the ratios compare like with like:
 *  1. judgement and signal latency p50/p99, buddies on different nodes vs on one node (cluster mode)
 *     vs a single SQLite node, one request at a time (unloaded);
 *  2. logons per second for the service (token logons, as reconnecting clients do), over every node,
 *     from several generator processes at once (one process holds at most ~19,900 sockets here);
 *  3. clients held across the nodes, each node's descriptors, resident memory per client against the
 *     bare `ws` floor at a comparable per-process count, and Redis's CPU while they are held.
 * Usage: node dist/bench/cluster.js [--clients N] [--nodes K] [--generators G] [--window W]
 *   [--samples S] [--hold-seconds H] [--no-latency] [--node-fd-limit F] [--results-dir DIR]
 * --clients above what the nodes can hold is a fill run: generators give up on a node after
 * --give-up-after failures in a row, and the table says where each node stopped.
 * PostgreSQL and Redis: BUDDYLINK_TEST_POSTGRES/REDIS, else .ci/services.sh starts private ones.
 */

const SERVICES = fileURLToPath(new URL('../../.ci/services.sh', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const SECRET = 'bench-cluster-secret-0123456789';
/** Sockets one generator is given at most: under the 20,000-descriptor limit with room for its own. */
const PER_GENERATOR = 17_000;

interface Args {
  clients: number;
  nodes: number;
  generators: number;
  window: number;
  samples: number;
  holdSeconds: number;
  latency: boolean;
  nodeFdLimit: number | undefined;
  giveUpAfter: number;
  resultsDir: string;
}

function parseArgs(argv: string[]): Args {
  const out: Args = {
    clients: 10_000,
    nodes: 5,
    generators: 0,
    window: 32,
    samples: 2000,
    holdSeconds: 20,
    latency: true,
    nodeFdLimit: undefined,
    giveUpAfter: 200,
    resultsDir: RESULTS,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--no-latency') {
      out.latency = false;
      continue;
    }
    if (flag === '--results-dir') {
      out.resultsDir = argv[++i] ?? RESULTS;
      continue;
    }
    const value = Number(argv[++i]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} needs a positive integer`);
    if (flag === '--clients') out.clients = value;
    else if (flag === '--nodes') out.nodes = value;
    else if (flag === '--generators') out.generators = value;
    else if (flag === '--window') out.window = value;
    else if (flag === '--samples') out.samples = value;
    else if (flag === '--hold-seconds') out.holdSeconds = value;
    else if (flag === '--node-fd-limit') out.nodeFdLimit = value;
    else if (flag === '--give-up-after') out.giveUpAfter = value;
    else throw new Error(`unknown flag ${flag}`);
  }
  if (out.nodes < 2) throw new Error('--nodes needs at least 2');
  if (out.generators === 0) out.generators = Math.max(1, Math.ceil(out.clients / PER_GENERATOR));
  if (out.clients / out.generators > 19_000)
    throw new Error(`${out.clients} clients need more than ${out.generators} generators (≤ 19,000 each)`);
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const loadAtStart = loadavg()[0] ?? 0;
  let pgUrl = process.env.BUDDYLINK_TEST_POSTGRES;
  let redisUrl = process.env.BUDDYLINK_TEST_REDIS;
  let servicesDir: string | undefined;
  if (!pgUrl || !redisUrl) {
    const out = execFileSync('bash', [SERVICES, 'start'], { encoding: 'utf8' });
    const env = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
    pgUrl = env.BUDDYLINK_TEST_POSTGRES;
    redisUrl = env.BUDDYLINK_TEST_REDIS;
    servicesDir = env.BUDDYLINK_TEST_SERVICES_DIR;
    if (servicesDir) reaper.services(servicesDir, SERVICES);
  }
  if (!pgUrl || !redisUrl) throw new Error('no PostgreSQL/Redis');
  const env = {
    BUDDYLINK_POSTGRES: pgUrl,
    BUDDYLINK_REDIS: redisUrl,
    BUDDYLINK_CLUSTER_SECRET: SECRET,
    BUDDYLINK_CLUSTER_PREFIX: `bench-${randomBytes(4).toString('hex')}:`,
  };
  const nodes: Node[] = [];
  try {
    // The schema comes from the first node's migrations; then the population goes straight into SQL.
    nodes.push(await spawnNode('n0', env, true, undefined, args.nodeFdLimit));
    const t0 = performance.now();
    await populate(pgUrl, args.clients + FIRST_HELD);
    console.error(
      `populated ${args.clients + FIRST_HELD} accounts in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    nodes.push(
      ...(await Promise.all(
        Array.from({ length: args.nodes - 1 }, (_, i) =>
          spawnNode(`n${i + 1}`, env, true, undefined, args.nodeFdLimit),
        ),
      )),
    );

    const latency = args.latency ? await latencyPart(nodes, args.samples, args.clients) : undefined;
    if (latency) printLatency(latency, args.samples);

    const redisBefore = await redisInfo(redisUrl);
    const pgBefore = await postgresTransactions(pgUrl);
    let redisAfter = redisBefore;
    let pgAfter = pgBefore;
    await new Promise((r) => setTimeout(r, 500));
    const hold = await holdRun({
      nodes,
      from: FIRST_HELD,
      clients: args.clients,
      generators: args.generators,
      window: args.window,
      holdSeconds: args.holdSeconds,
      attemptTimeoutMs: 20_000,
      giveUpAfter: args.giveUpAfter,
      redisPid: redisBefore.pid,
      postgresPids: () => postgresBackends(pgUrl),
      whileHeld: async () => {
        redisAfter = await redisInfo(redisUrl);
        // PostgreSQL publishes a backend's statistics within ~10 s of it going idle (below: shorter holds
        // are not counted); the moment here lets the last probes' be published.
        await new Promise((r) => setTimeout(r, 1500));
        pgAfter = await postgresTransactions(pgUrl);
      },
      log: (line) => console.error(line),
    });
    const loadDuringHold = loadavg()[0] ?? 0;
    // The floor at a comparable per-process count: what one node held on average.
    const perNode = Math.min(19_000, Math.max(1, Math.round(hold.held / args.nodes)));
    const floor = await floorBytesPerClient(perNode);
    printHold(hold, args, floor);
    const redisBytesPerDevice = (redisAfter.usedBytes - redisBefore.usedBytes) / hold.held;
    const perClient = {
      redisCommands: (redisAfter.commands - redisBefore.commands) / hold.held,
      postgresTransactions: args.holdSeconds >= 11 ? (pgAfter - pgBefore) / hold.held : Number.NaN,
    };
    console.log(
      `redis: used memory grew ${n0f(redisBytesPerDevice)} B per held client; per held client (logon, hold and probes): ${n0f(perClient.redisCommands, 2)} Redis commands, ${n0f(perClient.postgresTransactions, 2)} PostgreSQL transactions (– below an 11 s hold: not yet published)`,
    );
    console.log(
      `load average: ${loadAtStart.toFixed(1)} at start, ${loadDuringHold.toFixed(1)} after the hold (${describeMachine().logicalCpus} CPUs)`,
    );
    // The nodes' logs, counted (the generators closed every socket at once after the hold).
    for (const n of nodes) console.log(`${n.id} logged: ${n.logs.summary() || 'nothing at warn or above'}`);
    if (latency)
      console.log(
        `single SQLite node: ${latency.sqliteLogons.count} token logons at ${n0f(latency.sqliteLogons.perSecond)}/s (64 in flight, one process)`,
      );
    mkdirSync(args.resultsDir, { recursive: true });
    const file = join(args.resultsDir, `cluster-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    const record = {
      name: 'cluster',
      startedAt: startedAt.toISOString(),
      command: `node dist/bench/cluster.js ${process.argv.slice(2).join(' ')}`.trim(),
      args,
      machine: { ...describeMachine(), loadAtStart, loadDuringHold },
      latency,
      hold: { ...hold, redisBytesPerDevice, perClient },
      nodeLogs: Object.fromEntries(nodes.map((n) => [n.id, Object.fromEntries(n.logs.counts)])),
      floor,
    };
    writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    console.error(`wrote ${file}`);
  } catch (error) {
    for (const n of nodes)
      if (n.child.exitCode !== null || n.child.signalCode !== null)
        console.error(
          `node ${n.id} died (${n.child.exitCode ?? n.child.signalCode}):\n${n.logs.tail.join('\n')}`,
        );
    throw error;
  } finally {
    await Promise.all(
      nodes.map(async (n) => {
        if (n.child.exitCode !== null || n.child.signalCode !== null) return;
        const exited = new Promise((r) => n.child.once('exit', r));
        n.child.kill('SIGTERM');
        const kill = setTimeout(() => n.child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(kill);
      }),
    );
    if (servicesDir) execFileSync('bash', [SERVICES, 'stop', servicesDir]);
    reaper.done();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
