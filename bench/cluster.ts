import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, scryptSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { hashSessionToken } from '../src/server/tokens.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { type BenchNode, floorRun, type HoldResult, holdRun } from './cluster/hold.js';
import { inspectorUrl } from './cluster/inspector.js';
import { LogTally } from './cluster/log-tally.js';
import { startReaper } from './cluster/reaper.js';
import { WireClient } from './cluster/wire-client.js';
import { describeMachine } from './harness/machine.js';
import { BENCH_KDF, benchToken } from './load-accounts.js';
import { wrappedNode } from './load-process.js';

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

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./cluster/ws-floor.js', import.meta.url));
const SERVICES = fileURLToPath(new URL('../../.ci/services.sh', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const SECRET = 'bench-cluster-secret-0123456789';
/** Kills what this run started if it dies before its own clean-up. */
const reaper = startReaper();
/** Sockets one generator is given at most: under the 20,000-descriptor limit with room for its own. */
const PER_GENERATOR = 17_000;
/** Users u0…u3 are the latency pairs; the held clients start after them. */
const FIRST_HELD = 4;

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

interface Node extends BenchNode {
  child: ChildProcess;
  logs: LogTally;
}

/** The bare `ws` server (its own process), holding `clients` idle clients that each sent one echo. */
async function floorBytesPerClient(clients: number) {
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

async function spawnNode(
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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summary(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** Accounts u0…u(n-1) with tokens, and each u(2k) the accepted buddy of u(2k+1), written straight to SQL. */
async function populate(url: string, users: number): Promise<void> {
  const client = new pg.Client(url);
  await client.connect();
  const salt = randomBytes(16);
  const hash = scryptSync('bench-password', salt, BENCH_KDF.keyLength, { N: BENCH_KDF.N, r: 1, p: 1 });
  const kdf = `scrypt:${BENCH_KDF.N}:${BENCH_KDF.r}:${BENCH_KDF.p}:${BENCH_KDF.keyLength}`;
  const names = Array.from({ length: users }, (_, i) => `u${i}`);
  await client.query(
    `INSERT INTO accounts (user_name, password_hash, salt, kdf, public_key, created_at)
     SELECT n, $2, $3, $4, $5, 0 FROM unnest($1::text[]) n ON CONFLICT DO NOTHING`,
    [names, hash, salt, kdf, 'ab'.repeat(32)],
  );
  await client.query(
    `INSERT INTO session_tokens (token_hash, user_name, created_at, expires_at)
     SELECT t, n, 0, 9999999999999 FROM unnest($1::text[], $2::text[]) AS x(t, n) ON CONFLICT DO NOTHING`,
    [names.map((_, i) => hashSessionToken(benchToken(i))), names],
  );
  const pairs = names
    .filter((_, i) => i % 2 === 0 && i + 1 < users)
    .map((n) => [n, `u${Number(n.slice(1)) + 1}`]);
  const lo = pairs.map(([a, b]) => ((a ?? '') < (b ?? '') ? a : b));
  const hi = pairs.map(([a, b]) => ((a ?? '') < (b ?? '') ? b : a));
  await client.query(
    `INSERT INTO buddy_relations (user_lo, user_hi, requester, state, created_at)
     SELECT l, h, l, 'accepted', 0 FROM unnest($1::text[], $2::text[]) AS x(l, h) ON CONFLICT DO NOTHING`,
    [lo, hi],
  );
  await client.end();
}

/** The same accounts and tokens in a SQLite data directory, for the single-node baseline. */
async function populateSqlite(dir: string, users: number): Promise<void> {
  const store = openSqliteStore(dir);
  const salt = randomBytes(16);
  const passwordHash = scryptSync('bench-password', salt, BENCH_KDF.keyLength, {
    N: BENCH_KDF.N,
    r: 1,
    p: 1,
  });
  for (let i = 0; i < users; i++) {
    const user = `u${i}`;
    await store.createAccount({
      user,
      passwordHash,
      salt,
      kdf: BENCH_KDF,
      publicKey: 'ab'.repeat(32),
      createdAt: 0,
    });
    await store.saveToken({
      tokenHash: hashSessionToken(benchToken(i)),
      user,
      createdAt: 0,
      expiresAt: 9e12,
    });
    if (i % 2 === 1)
      await store.putRelation({ requester: `u${i - 1}`, target: user, state: 'accepted', createdAt: 0 });
  }
  await store.close();
}

/** Token logons with `window` in flight, spread over the nodes; the clients stay logged on. */
async function logonRun(urls: string[], from: number, count: number, window: number) {
  const held: WireClient[] = [];
  const started = performance.now();
  let next = from;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < from + count) {
        const i = next++;
        held.push(await logOn(urls[i % urls.length] ?? '', i));
      }
    }),
  );
  return { held, perSecond: count / ((performance.now() - started) / 1000) };
}

async function logOn(url: string, index: number): Promise<WireClient> {
  const c = await WireClient.connect(url);
  await c.ok('logon', { user: `u${index}`, token: benchToken(index) });
  return c;
}

/** Judgement and signal latency of one pair, one request at a time. */
async function pairLatency(a: WireClient, b: WireClient, bName: string, samples: number) {
  const judge: number[] = [];
  const signal: number[] = [];
  let arrived: (() => void) | undefined;
  b.onEvent((e) => {
    if (e.event === 'signal') arrived?.();
  });
  const body = { session: randomBytes(16).toString('hex'), purpose: 'offer', scope: 'global', addresses: [] };
  const warmup = Math.min(200, samples);
  for (let i = 0; i < samples + warmup; i++) {
    const t0 = performance.now();
    await a.ok('sameNat', { buddy: bName });
    const t1 = performance.now();
    const got = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    await a.ok('signal', { to: bName, body });
    await got;
    const t2 = performance.now();
    if (i >= warmup) {
      judge.push(t1 - t0);
      signal.push(t2 - t1);
    }
  }
  return { judge: summary(judge), signal: summary(signal) };
}

interface Latency {
  judge: { p50: number; p99: number };
  signal: { p50: number; p99: number };
}

/** Part 1: latency across nodes, on one node of the cluster, on a single SQLite node; SQLite logons. */
async function latencyPart(nodes: Node[], samples: number, clients: number) {
  const [n0, n1] = nodes;
  if (!n0 || !n1) throw new Error('at least two nodes');
  // Both pairs warm up first (JIT, pools, caches), so that neither pays for being measured first.
  const samePair = [await logOn(n0.ws, 2), await logOn(n0.ws, 3)] as const;
  const crossPair = [await logOn(n0.ws, 0), await logOn(n1.ws, 1)] as const;
  await pairLatency(samePair[0], samePair[1], 'u3', Math.min(300, samples));
  await pairLatency(crossPair[0], crossPair[1], 'u1', Math.min(300, samples));
  const same = await pairLatency(samePair[0], samePair[1], 'u3', samples);
  const cross = await pairLatency(crossPair[0], crossPair[1], 'u1', samples);
  for (const c of [...samePair, ...crossPair]) c.close();
  const single = await spawnNode('single', {}, false);
  const sa = await WireClient.connect(single.ws);
  const sb = await WireClient.connect(single.ws);
  await sa.ok('account.create', { user: 'a', password: 'bench-password', publicKey: 'ab'.repeat(32) });
  await sb.ok('account.create', { user: 'b', password: 'bench-password', publicKey: 'ab'.repeat(32) });
  await sa.ok('buddy.request', { user: 'b' });
  await sb.ok('buddy.accept', { user: 'a' });
  const alone = await pairLatency(sa, sb, 'b', samples);
  single.child.kill('SIGTERM');

  // The same token logons on one SQLite node, for the ratio under the same machine load.
  const dir = mkdtempSync(join(tmpdir(), 'buddylink-bench-'));
  const baselineCount = Math.min(clients, 5000);
  try {
    await populateSqlite(dir, baselineCount + FIRST_HELD);
    const sqliteNode = await spawnNode('sqlite', {}, false, dir);
    const baseline = await logonRun([sqliteNode.ws], FIRST_HELD, baselineCount, 64);
    for (const c of baseline.held) c.close();
    sqliteNode.child.kill('SIGTERM');
    return { alone, same, cross, sqliteLogons: { count: baselineCount, perSecond: baseline.perSecond } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printLatency(r: Awaited<ReturnType<typeof latencyPart>>, samples: number): void {
  const row = (name: string, x: Latency) =>
    `| ${name} | ${x.judge.p50.toFixed(3)} | ${x.judge.p99.toFixed(3)} | ${x.signal.p50.toFixed(3)} | ${x.signal.p99.toFixed(3)} |`;
  console.log(`\n${samples} samples each, one request at a time; milliseconds\n`);
  console.log('| buddies | judgement p50 | judgement p99 | signal p50 | signal p99 |');
  console.log('|---|---|---|---|---|');
  console.log(row('single node (SQLite, memory registry)', r.alone));
  console.log(row('cluster, both on one node', r.same));
  console.log(row('cluster, on two nodes', r.cross));
  const { cross, alone } = r;
  console.log(
    `\nratio cross-node / single node: judgement p50 ${(cross.judge.p50 / alone.judge.p50).toFixed(2)}x, p99 ${(cross.judge.p99 / alone.judge.p99).toFixed(2)}x; signal p50 ${(cross.signal.p50 / alone.signal.p50).toFixed(2)}x, p99 ${(cross.signal.p99 / alone.signal.p99).toFixed(2)}x`,
  );
}

const n0f = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

function printHold(h: HoldResult, args: Args, floor: Awaited<ReturnType<typeof floorBytesPerClient>>): void {
  console.log(
    `\nlogons: ${h.held} token logons over ${args.nodes} nodes from ${args.generators} generators: ${n0f(h.logonsPerSecond)}/s (${n0f(h.logonSeconds, 1)} s; ${args.window} in flight per generator; connect+logon p50 ${n0f(h.logonP50Ms, 1)} ms, p99 ${n0f(h.logonP99Ms, 1)} ms)`,
  );
  const c = h.logonCpu;
  const part = (name: string, x: { perThousand: number; percent: number }) =>
    `${name} ${n0f(x.perThousand, 2)} s (${n0f(x.percent)} %)`;
  console.log(
    `logon CPU per 1,000 logons (and % of one core during the logons): ${part('nodes', c.nodes)}, ${part('generators', c.generators)}, ${part('PostgreSQL', c.postgres)}, ${part('Redis', c.redis)}`,
  );
  const failures = Object.entries(h.errors)
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
  console.log(
    `held: ${h.held} of ${h.attempted} clients on ${args.nodes} nodes; the nodes' gauges say ${h.devicesOnline} logged on${h.gaugesUnreachable > 0 ? ` (${h.gaugesUnreachable} node(s) could not answer /metrics: no descriptor left)` : ''}; failed ${h.failed}${failures ? ` (${failures})` : ''}, skipped ${h.skipped}${h.full.length > 0 ? `; nodes given up as full: ${h.full.join(', ')}` : ''}`,
  );
  console.log(
    `alive after ${args.holdSeconds} s: ${h.probe.open} sockets open, ${h.probe.answered}/${h.probe.asked} sampled clients answered a ping`,
  );
  console.log(
    '\n| node | held | gauge (logged on) | descriptors / limit | RSS MiB | RSS growth per client KiB | heap growth per client KiB | CPU % while held |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const n of h.nodes)
    console.log(
      `| ${n.id}${n.alive ? '' : ' (dead)'} | ${n.held} | ${n0f(n.devicesOnline)} | ${n.fds} / ${n.fdLimit} | ${n0f(n.rssMiB)} | ${n0f(n.rssGrowthBytesPerClient / 1024, 1)} | ${n0f(n.heapGrowthBytesPerClient / 1024, 1)} | ${n0f(n.cpuPercentHold)} |`,
    );
  console.log('\n| generator | held | failed | logons/s | RSS MiB | descriptors |');
  console.log('|---|---|---|---|---|---|');
  for (const g of h.perGenerator)
    console.log(`| ${g.pid} | ${g.held} | ${g.failed} | ${n0f(g.perSecond)} | ${n0f(g.rssMiB)} | ${g.fds} |`);
  console.log(
    `\nwhile held: redis-server CPU ${h.redisCpuPercentHold === undefined ? 'unknown (not local)' : `${n0f(h.redisCpuPercentHold)} %`}, generators ${n0f(h.generatorsCpuPercentHold)} % in all`,
  );
  console.log(
    `floor: bare ws server holding ${floor.clients} clients (after a full GC): RSS ${n0f(floor.bytesPerClient / 1024, 1)} KiB, heap ${n0f(floor.heapBytesPerClient / 1024, 1)} KiB per client; cluster node RSS ${n0f(h.rssGrowthBytesPerClient / 1024, 1)} KiB = ${n0f(h.rssGrowthBytesPerClient / floor.bytesPerClient, 2)}x, heap ${n0f(h.heapGrowthBytesPerClient / 1024, 1)} KiB = ${n0f(h.heapGrowthBytesPerClient / floor.heapBytesPerClient, 2)}x the floor`,
  );
}

/** Pids of the PostgreSQL backends connected to the bench database (the nodes' pools), when local. */
async function postgresBackends(url: string): Promise<number[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return rows
      .map((r) => r.pid)
      .filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
  } finally {
    await client.end();
  }
}

/** Transactions committed or rolled back in the bench database so far (PostgreSQL's own statistics). */
async function postgresTransactions(url: string): Promise<number> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

/** redis-server's pid (when it runs on this machine) and used memory. */
async function redisInfo(
  url: string,
): Promise<{ pid: number | undefined; usedBytes: number; commands: number }> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info();
    const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    let local = false;
    try {
      process.kill(pid, 0);
      local = true;
    } catch {}
    return {
      pid: local ? pid : undefined,
      usedBytes: Number(/^used_memory:(\d+)/m.exec(info)?.[1]),
      commands: Number(/^total_commands_processed:(\d+)/m.exec(info)?.[1]),
    };
  } finally {
    redis.disconnect();
  }
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
        // PostgreSQL publishes a backend's statistics once it has been idle a moment.
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
      postgresTransactions: (pgAfter - pgBefore) / hold.held,
    };
    console.log(
      `redis: used memory grew ${n0f(redisBytesPerDevice)} B per held client; per held client (logon, hold and probes): ${n0f(perClient.redisCommands, 2)} Redis commands, ${n0f(perClient.postgresTransactions, 2)} PostgreSQL transactions`,
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
