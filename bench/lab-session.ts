import { runScenario } from '../lab/scenario/run.js';
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js';
import { formatSpread, spread } from './harness/stats.js';

/**
 * Issue 11, goal 1: connect → first verified byte per NAT-lab row with the real CLI, the relay
 * racing from the start (`relayHeadStartMs=0`: the session starts on the first proven path) against
 * the default 2 s head start, side by side in one run. Each `send` is a new process (cold).
 */

const ROWS = ['one-nat', 'two-nats', 'symmetric-both', 'udp-blocked'] as const;
const VARIANTS = [
  { name: 'relay at once', args: ['--timeout', 'relayHeadStartMs=0'] },
  { name: 'relay after 2 s (default)', args: [] },
] as const;

async function run(context: BenchmarkContext): Promise<BenchmarkReport> {
  const rows: (string | number)[][] = [];
  const data: Record<string, unknown> = {};
  const sends = context.smoke ? 1 : Math.max(2, context.runs);
  for (const topology of context.smoke ? ROWS.slice(0, 1) : ROWS) {
    for (const variant of VARIANTS) {
      const result = await runScenario({ topology, sendArgs: variant.args, sends, fileBytes: 64 * 1024 });
      const ok = result.connects.filter((c) => c.exit === 0 && c.ms !== null);
      const ms = ok.map((c) => c.ms as number);
      const paths = [...new Set(ok.map((c) => c.path))].join(', ');
      rows.push([
        topology,
        variant.name,
        ms.length > 0 ? formatSpread(spread(ms), 0) : 'failed',
        paths,
        `${ok.length}/${sends}`,
      ]);
      data[`${topology}/${variant.name}`] = result.connects;
      context.log(`${topology} ${variant.name}: ${ms.join(', ')} ms over ${paths}`);
    }
  }
  return {
    title: 'NAT lab: connect → first verified byte per row, relay at once vs its 2 s head start (real CLI)',
    setup: [
      'lab rows without added delay; the server on the lab internet; each send a new CLI process (cold STUN)',
      '`connected` ms of `buddylink send --json`: from the start of connect to the first proven path carrying the session',
    ],
    columns: ['row', 'relay', 'ms, median (spread)', 'first path', 'sends ok'],
    rows,
    notes: ['goal: ≤ one server round trip + one handshake on every row with the relay at once'],
    data,
  };
}

export const labSessionBenchmark: Benchmark = {
  name: 'lab-session',
  description: 'NAT lab: first verified byte per row, relay at once vs the default head start',
  run,
};
