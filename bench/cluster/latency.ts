import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** One sample of a pair: its judgement, then a signal until it arrived (ms each). */
function pairProbe(a: WireClient, b: WireClient, bName: string): () => Promise<[number, number]> {
  let arrived: (() => void) | undefined;
  b.onEvent((e) => {
    if (e.event === 'signal') arrived?.();
  });
  const body = { session: randomBytes(16).toString('hex'), purpose: 'offer', scope: 'global', addresses: [] };
  return async () => {
    const t0 = performance.now();
    await a.ok('sameNat', { buddy: bName });
    const t1 = performance.now();
    const got = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    await a.ok('signal', { to: bName, body });
    await got;
    return [t1 - t0, performance.now() - t1];
  };
}

/**
 * Paced: the pairs take turns, one request at a time with a pause of 5 ms before each, so that every
 * request meets idle processes (as an unloaded server's requests do) and whatever else the machine does
 * falls on every pair alike. Back to back: each pair on its own, the next request as soon as the last
 * is answered, so its processes stay awake. On this VM waking an idle process costs ~0.1 ms, which the
 * paced figures include once per process a request crosses.
 */
async function measure(
  probes: Array<() => Promise<[number, number]>>,
  samples: number,
  warmup: number,
  paced: boolean,
) {
  const out = probes.map(() => ({ judge: [] as number[], signal: [] as number[] }));
  const take = async (k: number, i: number) => {
    if (paced) await sleep(5);
    const [judge, signal] = (await probes[k]?.()) ?? [Number.NaN, Number.NaN];
    if (i < warmup) return;
    out[k]?.judge.push(judge);
    out[k]?.signal.push(signal);
  };
  if (paced) {
    for (let i = 0; i < warmup + samples; i++) for (let k = 0; k < probes.length; k++) await take(k, i);
  } else {
    for (let k = 0; k < probes.length; k++) for (let i = 0; i < warmup + samples; i++) await take(k, i);
  }
  return out.map((r) => ({ judge: summary(r.judge), signal: summary(r.signal) }));
}

export interface Latency {
  judge: { p50: number; p99: number };
  signal: { p50: number; p99: number };
}

/** Part 1: latency across nodes, on one node of the cluster, on a single SQLite node; SQLite logons. */
export async function latencyPart(nodes: Node[], samples: number, clients: number) {
  const [n0, n1] = nodes;
  if (!n0 || !n1) throw new Error('at least two nodes');
  const single = await spawnNode('single', {}, false);
  const sa = await WireClient.connect(single.ws);
  const sb = await WireClient.connect(single.ws);
  await sa.ok('account.create', { user: 'a', password: 'bench-password', publicKey: 'ab'.repeat(32) });
  await sb.ok('account.create', { user: 'b', password: 'bench-password', publicKey: 'ab'.repeat(32) });
  await sa.ok('buddy.request', { user: 'b' });
  await sb.ok('buddy.accept', { user: 'a' });
  const samePair = [await logOn(n0.ws, 2), await logOn(n0.ws, 3)] as const;
  const crossPair = [await logOn(n0.ws, 0), await logOn(n1.ws, 1)] as const;
  const probes = [
    pairProbe(sa, sb, 'b'),
    pairProbe(samePair[0], samePair[1], 'u3'),
    pairProbe(crossPair[0], crossPair[1], 'u1'),
  ];
  const warmup = Math.min(300, samples);
  const [alone, same, cross] = (await measure(probes, samples, warmup, true)) as [Latency, Latency, Latency];
  const [aloneB, sameB, crossB] = (await measure(probes, samples, warmup, false)) as [
    Latency,
    Latency,
    Latency,
  ];
  for (const c of [sa, sb, ...samePair, ...crossPair]) c.close();
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
    return {
      alone,
      same,
      cross,
      backToBack: { alone: aloneB, same: sameB, cross: crossB },
      sqliteLogons: { count: baselineCount, perSecond: baseline.perSecond },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printLatency(r: Awaited<ReturnType<typeof latencyPart>>, samples: number): void {
  const row = (name: string, x: Latency) =>
    `| ${name} | ${x.judge.p50.toFixed(3)} | ${x.judge.p99.toFixed(3)} | ${x.signal.p50.toFixed(3)} | ${x.signal.p99.toFixed(3)} |`;
  const ratio = (label: string, cross: Latency, alone: Latency) =>
    `${label}: cross-node / single node: judgement p50 ${(cross.judge.p50 / alone.judge.p50).toFixed(2)}x, p99 ${(cross.judge.p99 / alone.judge.p99).toFixed(2)}x; signal p50 ${(cross.signal.p50 / alone.signal.p50).toFixed(2)}x, p99 ${(cross.signal.p99 / alone.signal.p99).toFixed(2)}x`;
  console.log(`\n${samples} samples per pair and mode, one request at a time; milliseconds\n`);
  console.log('| buddies | judgement p50 | judgement p99 | signal p50 | signal p99 |');
  console.log('|---|---|---|---|---|');
  console.log(row('paced: single node (SQLite, memory registry)', r.alone));
  console.log(row('paced: cluster, both on one node', r.same));
  console.log(row('paced: cluster, on two nodes', r.cross));
  console.log(row('back to back: single node', r.backToBack.alone));
  console.log(row('back to back: cluster, both on one node', r.backToBack.same));
  console.log(row('back to back: cluster, on two nodes', r.backToBack.cross));
  console.log(`\n${ratio('paced', r.cross, r.alone)}`);
  console.log(ratio('back to back', r.backToBack.cross, r.backToBack.alone));
}
