import { runScenario } from '../lab/scenario/run.js';
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js';
import { spread } from './harness/stats.js';
import { LIMITS } from './lab-bench/options.js';
import { loadNote, ms } from './lab-bench/report.js';
import { pause, World } from './lab-bench/world.js';

/**
 * Issue 10, item 5: reach per NAT row. For each row, how often buddylink reaches the path the row
 * expects (the direct one where there is one) and how fast, against WebRTC ICE (node-datachannel /
 * libjuice, STUN at the lab server, no TURN) in the same topology: how often a data channel opens.
 *
 * Ours: the real CLI (`send` per try) as in the NAT matrix, each try with a fresh receiver process
 * (a new peer socket and global port), so no NAT state of one try helps the next. ICE: a fresh
 * PeerConnection pair per try, signalling through pipes (free and instant: ICE's best case), given
 * `iceTimeoutMs` to open. 0 ms delay: the rows are about whether a path is found, not round trips.
 */

interface ReachRow {
  topology: string;
  /** What ours must reach: the direct path where the row has one. */
  expected: 'internet' | 'relay';
  what: string;
}

const ROWS: readonly ReachRow[] = [
  { topology: 'two-nats', expected: 'internet', what: 'two NATs dropping unsolicited input' },
  { topology: 'two-bare-nats', expected: 'internet', what: 'two plain masquerade NATs (no input filter)' },
  { topology: 'two-rejecting-nats', expected: 'internet', what: 'two NATs rejecting with ICMP' },
  { topology: 'public-and-bare-nat', expected: 'internet', what: 'public host and a bare NAT one hop away' },
  { topology: 'symmetric-one', expected: 'internet', what: 'symmetric NAT on one side (birthday punching)' },
  { topology: 'symmetric-both', expected: 'relay', what: 'symmetric NATs on both sides (relay at once)' },
];

/** ICE gets this long per try; a channel that opens later counts as not connected. */
const ICE_TIMEOUT_MS = 5000;

interface RowResult {
  topology: string;
  expected: string;
  ours: { ok: number; tries: number; ms: number[]; paths: (string | null)[] };
  ice: { ok: number; tries: number; ms: number[]; pairs: string[] };
}

async function ours(row: ReachRow, tries: number): Promise<RowResult['ours']> {
  const r = await runScenario({
    topology: row.topology,
    sends: tries,
    receiverPerSend: true,
    fileBytes: 1024,
  });
  const hits = r.connects.filter((c) => c.exit === 0 && c.path === row.expected);
  return {
    ok: hits.length,
    tries: r.connects.length,
    ms: hits.map((c) => c.ms ?? 0),
    paths: r.connects.map((c) => c.path),
  };
}

async function ice(row: ReachRow, tries: number, log: (line: string) => void): Promise<RowResult['ice']> {
  const world = await World.open({
    topology: row.topology,
    delayMs: 0,
    globalAddressTtlMs: 0,
    agents: false,
  });
  const out: RowResult['ice'] = { ok: 0, tries, ms: [], pairs: [] };
  try {
    log(`${row.topology}: lab up (${world.lab.runId})`);
    const pair = await world.startIce('pipe');
    for (let run = 0; run < tries; run++) {
      pair.offerer.send({ cmd: 'start', run });
      const open = await pair.offerer.next('first-message', ICE_TIMEOUT_MS).catch(() => undefined);
      if (open) {
        out.ok++;
        out.ms.push(Number(open.openMs));
        out.pairs.push(`${String(open.local)}/${String(open.remote)}`);
      }
      pair.offerer.send({ cmd: 'close' });
      pair.answerer.send({ cmd: 'close' });
      await Promise.all([pair.offerer.next('closed', 5000), pair.answerer.next('closed', 5000)]);
      // A late line of this try must not count for the next.
      await pause(LIMITS.betweenRunsMs);
      while (await pair.offerer.next('first-message', 1).catch(() => undefined));
      log(
        `${row.topology} ICE try ${run + 1}/${tries}: ${open ? `open ${Number(open.openMs).toFixed(0)} ms` : 'no channel'}`,
      );
    }
  } finally {
    await world.close();
  }
  return out;
}

const rate = (ok: number, tries: number) =>
  `${ok}/${tries} (${Math.round((100 * ok) / Math.max(1, tries))} %)`;
const times = (values: number[]) => (values.length > 0 ? ms(values) : '–');

async function run(context: BenchmarkContext): Promise<BenchmarkReport> {
  const rows = context.smoke ? ROWS.filter((r) => r.topology === 'symmetric-both') : ROWS;
  const loadBefore = loadNote('before');
  const results: RowResult[] = [];
  for (const row of rows) {
    const o = await ours(row, context.runs);
    context.log(`${row.topology} buddylink: ${rate(o.ok, o.tries)} on ${row.expected}`);
    const i = await ice(row, context.runs, context.log);
    results.push({ topology: row.topology, expected: row.expected, ours: o, ice: i });
  }
  const table = results.map((r, n) => [
    `${r.topology}: ${rows[n]!.what}`,
    `${rate(r.ours.ok, r.ours.tries)} ${r.expected}`,
    times(r.ours.ms),
    rate(r.ice.ok, r.ice.tries),
    times(r.ice.ms),
    [...new Set(r.ice.pairs)].join(', ') || '–',
  ]);
  return {
    title: 'NAT lab reach: success rate and time to the path, buddylink vs WebRTC ICE (no TURN)',
    setup: [
      `${context.runs} tries per row and side, 0 ms delay; ours: real CLI send, fresh receiver per try (independent NAT state); time = connect() → connected (key proven)`,
      `ICE: node-datachannel, fresh PeerConnection per try, pipe signalling (free), STUN at the lab server, ${ICE_TIMEOUT_MS} ms per try; time = start → channel open (answerer's first message received)`,
      loadBefore,
      loadNote('after'),
    ],
    columns: ['row', 'buddylink reached', 'buddylink ms', 'ICE connected', 'ICE ms', 'ICE pair'],
    rows: table,
    notes: results.map((r) => {
      const s = r.ours.ms.length > 0 ? spread(r.ours.ms) : undefined;
      return `${r.topology}: ours ${rate(r.ours.ok, r.ours.tries)}${s ? `, median ${s.median.toFixed(0)} ms` : ''}; ICE ${rate(r.ice.ok, r.ice.tries)}`;
    }),
    data: results,
  };
}

export const labReachBenchmark: Benchmark = {
  name: 'lab-reach',
  description: 'NAT lab: success rate and time to the expected path per reach row, vs WebRTC ICE (issue 10)',
  run,
};
