import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchToken } from '../load-accounts.js';
import { type Node, spawnNode } from './children.js';
import { FIRST_HELD, populateSqlite } from './population.js';
import { WireClient } from './wire-client.js';

/**
 * Part 1 of the cluster benchmark: judgement and signal latency, one request at a time, of a pair on two
 * nodes, a pair on one node of the cluster and a pair on a single SQLite node; and token logons on that
 * single node, the baseline of the service's logons/s.
 */

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summary(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
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

export interface Latency {
  judge: { p50: number; p99: number };
  signal: { p50: number; p99: number };
}

/** Part 1: latency across nodes, on one node of the cluster, on a single SQLite node; SQLite logons. */
export async function latencyPart(nodes: Node[], samples: number, clients: number) {
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

export function printLatency(r: Awaited<ReturnType<typeof latencyPart>>, samples: number): void {
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
