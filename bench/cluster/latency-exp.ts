import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { WireClient } from './wire-client.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const kids: ChildProcess[] = [];
async function spawnNode(id: string, cluster: boolean, env: Record<string, string>): Promise<string> {
  const args = [
    MAIN,
    'server',
    '--json',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--stun-port',
    '0',
    '--http-port',
    '0',
    '--log-level',
    'warn',
    '--messages-per-second',
    '100000',
    '--message-burst',
    '100000',
    ...(cluster ? ['--node-id', id] : ['--data', ':memory:']),
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...(cluster ? env : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  kids.push(child);
  const line = await new Promise<string>((resolve) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
  });
  console.error(line);
  return (JSON.parse(line) as { ws: string }).ws;
}
async function pair(urlA: string, urlB: string, a: string, b: string) {
  const ca = await WireClient.connect(urlA);
  const cb = await WireClient.connect(urlB);
  await ca.ok('account.create', { user: a, password: 'bench-password', publicKey: 'ab'.repeat(32) });
  await cb.ok('account.create', { user: b, password: 'bench-password', publicKey: 'ab'.repeat(32) });
  await ca.ok('buddy.request', { user: b });
  await cb.ok('buddy.accept', { user: a });
  let arrived: (() => void) | undefined;
  cb.onEvent((e) => {
    if (e.event === 'signal') arrived?.();
  });
  const body = { session: randomBytes(16).toString('hex'), purpose: 'offer', scope: 'global', addresses: [] };
  return async () => {
    const t0 = performance.now();
    await ca.ok('sameNat', { buddy: b });
    const t1 = performance.now();
    const got = new Promise<void>((r) => {
      arrived = r;
    });
    await ca.ok('signal', { to: b, body });
    await got;
    return [t1 - t0, performance.now() - t1] as const;
  };
}
const env = {
  BUDDYLINK_POSTGRES: process.env.BUDDYLINK_TEST_POSTGRES ?? '',
  BUDDYLINK_REDIS: process.env.BUDDYLINK_TEST_REDIS ?? '',
  BUDDYLINK_CLUSTER_SECRET: 'bench-cluster-secret-0123456789',
  BUDDYLINK_CLUSTER_PREFIX: `exp-${randomBytes(4).toString('hex')}:`,
};
try {
  const single = await spawnNode('s', false, env);
  const n0 = await spawnNode('n0', true, env);
  const n1 = await spawnNode('n1', true, env);
  const tag = randomBytes(3).toString('hex');
  const runs = {
    single: await pair(single, single, `a${tag}`, `b${tag}`),
    same: await pair(n0, n0, `c${tag}`, `d${tag}`),
    cross: await pair(n0, n1, `e${tag}`, `f${tag}`),
  };
  const res: Record<string, { j: number[]; s: number[] }> = {
    single: { j: [], s: [] },
    same: { j: [], s: [] },
    cross: { j: [], s: [] },
  };
  const n = Number(process.argv[2] ?? 2000);
  for (let i = 0; i < n + 300; i++)
    for (const [k, f] of Object.entries(runs)) {
      await new Promise((r) => setTimeout(r, 1));
      const [j, s] = await f();
      if (i >= 300) {
        res[k]?.j.push(j);
        res[k]?.s.push(s);
      }
    }
  const p = (xs: number[], q: number) => [...xs].sort((x, y) => x - y)[Math.floor(q * xs.length)]?.toFixed(3);
  for (const [k, r] of Object.entries(res))
    console.log(
      k,
      'judge p50',
      p(r.j, 0.5),
      'p99',
      p(r.j, 0.99),
      'signal p50',
      p(r.s, 0.5),
      'p99',
      p(r.s, 0.99),
    );
} finally {
  for (const k of kids) k.kill();
}
process.exit(0);
