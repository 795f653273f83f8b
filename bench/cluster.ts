import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, scryptSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { hashSessionToken } from '../src/server/tokens.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { WireClient } from './cluster/wire-client.js';
import { BENCH_KDF, benchToken } from './load-accounts.js';

/**
 * Issue 12's benchmarks, in one run so that the ratios compare like with like:
 *  1. judgement and signal latency p50/p99, buddies on different nodes vs on one node (cluster mode)
 *     vs a single SQLite node, one request at a time (unloaded);
 *  2. logons per second for the service (token logons, as reconnecting clients do), over every node;
 *  3. clients held across five nodes, and each node's resident memory per client.
 * Usage: node dist/bench/cluster.js [--clients N] [--nodes K] [--samples S]
 * PostgreSQL and Redis: BUDDYLINK_TEST_POSTGRES/REDIS, else .ci/services.sh starts private ones.
 */

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./cluster/ws-floor.js', import.meta.url));
const SERVICES = fileURLToPath(new URL('../../.ci/services.sh', import.meta.url));
const SECRET = 'bench-cluster-secret-0123456789';

interface Args {
  clients: number;
  nodes: number;
  samples: number;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { clients: 10_000, nodes: 5, samples: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = Number(argv[++i]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} needs a positive integer`);
    if (flag === '--clients') out.clients = value;
    else if (flag === '--nodes') out.nodes = value;
    else if (flag === '--samples') out.samples = value;
    else throw new Error(`unknown flag ${flag}`);
  }
  return out;
}

interface Node {
  id: string;
  child: ChildProcess;
  ws: string;
}

/** The bare `ws` server, holding as many idle clients as one node did (each sent one message). */
async function floorBytesPerClient(clients: number): Promise<number> {
  const child = spawn(process.execPath, [FLOOR], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
      });
      child.once('exit', (code) => reject(new Error(`floor exited ${code}`)));
    });
    const url = (JSON.parse(line) as { ws: string }).ws;
    await new Promise((r) => setTimeout(r, 500));
    const before = rssBytes(child.pid ?? 0);
    const held: WireClient[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < clients) {
          next++;
          const c = await WireClient.connect(url);
          await new Promise<void>((resolve) => {
            c.socket.once('message', () => resolve());
            c.socket.send('{"v":1,"id":1,"type":"ping"}');
          });
          held.push(c);
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 1000));
    const perClient = (rssBytes(child.pid ?? 0) - before) / held.length;
    for (const c of held) c.close();
    return perClient;
  } finally {
    child.kill('SIGTERM');
  }
}

async function spawnNode(
  id: string,
  env: Record<string, string>,
  cluster: boolean,
  dataDir = ':memory:',
): Promise<Node> {
  const args = [
    MAIN,
    'server',
    '--json',
    ...['--host', '127.0.0.1', '--port', '0', '--stun-port', '0', '--http-port', '0', '--log-level', 'warn'],
    ...['--messages-per-second', '100000', '--message-burst', '100000', '--max-pending', '1000'],
    ...(cluster ? ['--node-id', id] : ['--data', dataDir]),
  ];
  const child = spawn(process.execPath, args, {
    env: cluster ? { ...process.env, ...env } : { ...process.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    child.once('exit', (code) => reject(new Error(`node ${id} exited ${code}`)));
  });
  return { id, child, ws: (JSON.parse(line) as { ws: string }).ws };
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
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

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let pgUrl = process.env.BUDDYLINK_TEST_POSTGRES;
  let redisUrl = process.env.BUDDYLINK_TEST_REDIS;
  let servicesDir: string | undefined;
  if (!pgUrl || !redisUrl) {
    const out = execFileSync('bash', [SERVICES, 'start'], { encoding: 'utf8' });
    const env = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
    pgUrl = env.BUDDYLINK_TEST_POSTGRES;
    redisUrl = env.BUDDYLINK_TEST_REDIS;
    servicesDir = env.BUDDYLINK_TEST_SERVICES_DIR;
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
    nodes.push(await spawnNode('n0', env, true));
    await populate(pgUrl, args.clients + 4);
    for (let i = 1; i < args.nodes; i++) nodes.push(await spawnNode(`n${i}`, env, true));
    const [n0, n1] = nodes;
    if (!n0 || !n1) throw new Error('at least two nodes');

    // 1. latency: across nodes, on one node of the cluster, on a single SQLite node.
    // Both pairs warm up first (JIT, pools, caches), so that neither pays for being measured first.
    const samePair = [await logOn(n0.ws, 2), await logOn(n0.ws, 3)] as const;
    const crossPair = [await logOn(n0.ws, 0), await logOn(n1.ws, 1)] as const;
    await pairLatency(samePair[0], samePair[1], 'u3', Math.min(300, args.samples));
    await pairLatency(crossPair[0], crossPair[1], 'u1', Math.min(300, args.samples));
    const same = await pairLatency(samePair[0], samePair[1], 'u3', args.samples);
    const cross = await pairLatency(crossPair[0], crossPair[1], 'u1', args.samples);
    const single = await spawnNode('single', {}, false);
    const sa = await WireClient.connect(single.ws);
    const sb = await WireClient.connect(single.ws);
    await sa.ok('account.create', { user: 'a', password: 'bench-password', publicKey: 'ab'.repeat(32) });
    await sb.ok('account.create', { user: 'b', password: 'bench-password', publicKey: 'ab'.repeat(32) });
    await sa.ok('buddy.request', { user: 'b' });
    await sb.ok('buddy.accept', { user: 'a' });
    const alone = await pairLatency(sa, sb, 'b', args.samples);
    single.child.kill('SIGTERM');

    // The same token logons on one SQLite node, for the ratio under the same machine load.
    const dir = mkdtempSync(join(tmpdir(), 'buddylink-bench-'));
    const baselineCount = Math.min(args.clients, 5000);
    await populateSqlite(dir, baselineCount + 4);
    const sqliteNode = await spawnNode('sqlite', {}, false, dir);
    const baseline = await logonRun([sqliteNode.ws], 4, baselineCount, 64);
    for (const c of baseline.held) c.close();
    sqliteNode.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });

    // 2 and 3. logons per second over every node, then the clients stay logged on.
    await new Promise((r) => setTimeout(r, 500));
    const rssBefore = nodes.map((n) => rssBytes(n.child.pid ?? 0));
    const window = 64;
    const { held, perSecond } = await logonRun(
      nodes.map((n) => n.ws),
      4,
      args.clients,
      window,
    );
    await new Promise((r) => setTimeout(r, 1000));
    const rssAfter = nodes.map((n) => rssBytes(n.child.pid ?? 0));
    const perClient = rssAfter.reduce((s, r, i) => s + r - (rssBefore[i] ?? 0), 0) / held.length;

    const row = (
      name: string,
      r: { judge: { p50: number; p99: number }; signal: { p50: number; p99: number } },
    ) =>
      `| ${name} | ${r.judge.p50.toFixed(3)} | ${r.judge.p99.toFixed(3)} | ${r.signal.p50.toFixed(3)} | ${r.signal.p99.toFixed(3)} |`;
    console.log(`\n${args.samples} samples each, one request at a time; milliseconds\n`);
    console.log('| buddies | judgement p50 | judgement p99 | signal p50 | signal p99 |');
    console.log('|---|---|---|---|---|');
    console.log(row('single node (SQLite, memory registry)', alone));
    console.log(row('cluster, both on one node', same));
    console.log(row('cluster, on two nodes', cross));
    console.log(
      `\nratio cross-node / single node: judgement p50 ${(cross.judge.p50 / alone.judge.p50).toFixed(2)}x, p99 ${(cross.judge.p99 / alone.judge.p99).toFixed(2)}x; signal p50 ${(cross.signal.p50 / alone.signal.p50).toFixed(2)}x, p99 ${(cross.signal.p99 / alone.signal.p99).toFixed(2)}x`,
    );
    console.log(
      `\nlogons: ${held.length} token logons over ${nodes.length} nodes: ${perSecond.toFixed(0)}/s; ${baselineCount} on one SQLite node: ${baseline.perSecond.toFixed(0)}/s (${window} in flight; load average ${loadavg()[0]?.toFixed(1)})`,
    );
    console.log(
      `held: ${held.length} clients on ${nodes.length} nodes (${Math.round(held.length / nodes.length)} each); node RSS growth ${(perClient / 1024).toFixed(1)} KiB per client; RSS per node MiB: ${rssAfter.map((r) => (r / 2 ** 20).toFixed(0)).join(', ')}`,
    );
    for (const c of held) c.close();
    const floor = await floorBytesPerClient(Math.round(held.length / nodes.length));
    console.log(
      `floor: bare ws server holding ${Math.round(held.length / nodes.length)} clients: ${(floor / 1024).toFixed(1)} KiB per client; cluster node / floor = ${(perClient / floor).toFixed(2)}x`,
    );
  } finally {
    await Promise.all(
      nodes.map(async (n) => {
        if (n.child.exitCode !== null) return;
        const exited = new Promise((r) => n.child.once('exit', r));
        n.child.kill('SIGTERM');
        await exited;
      }),
    );
    if (servicesDir) execFileSync('bash', [SERVICES, 'stop', servicesDir]);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
