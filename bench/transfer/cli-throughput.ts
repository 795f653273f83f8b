import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchmarkContext, BenchmarkReport } from '../harness/benchmark.js';
import { requireTool } from '../harness/processes.js';
import { type IperfRun, runIperf, startIperfServer } from '../lab-bench/iperf.js';
import { loadNote, pairedRatio, ratio, type Spread, verdict } from '../lab-bench/report.js';
import { pause } from '../lab-bench/world.js';
import { BuddylinkCli, type CliTransfer } from './buddylink-cli.js';
import { type CeilingRun, runCipherCeiling } from './cipher-ceiling.js';
import { interleaved } from './interleave.js';
import type { Place } from './places.js';
import { fileBytesOf, mebibytes, nsPerByte, rates, transferTimeoutMs, warmupsOf } from './sizes.js';
import { writeTestFile } from './test-file.js';
import { GNU_TIME } from './timed-process.js';

/**
 * The real CLI, `buddylink send --path P` → `buddylink receive --once`, per path, against (a) the
 * same cipher (@hyperswarm/secret-stream) over a plain TCP socket with the same file pipeline, the
 * ceiling of the crypto, and (b) iperf3 TCP, the ceiling of the link, between the same two hosts of
 * a place (loopback, or the lab LAN shaped to a rate). Used by loopback-throughput and lab-lan-shaped.
 *
 * Held constant: one file of random bytes, one server, the same two homes; a fresh pair of
 * commands per run; all contenders interleaved in rotating order; sha256 checked on every transfer.
 */

export type ThroughputPath = 'lan' | 'internet' | 'relay';

export interface ThroughputPlan {
  open: () => Promise<Place>;
  paths: readonly ThroughputPath[];
  /** Goals per path: ours / ceiling ≥ this (against the cipher over TCP or against iperf3). */
  goals: Partial<Record<ThroughputPath, { against: 'cipher' | 'iperf3'; atLeast: number }>>;
  title: (bytes: number) => string;
  /** Lines about the place, first in the report's setup. */
  where: readonly string[];
}

interface Series {
  place: string;
  ours: Partial<Record<ThroughputPath, CliTransfer[]>>;
  ceiling: CeilingRun[];
  iperf: IperfRun[];
}

const IPERF_PORT = 5201;

export async function measureCliThroughput(
  context: BenchmarkContext,
  plan: ThroughputPlan,
): Promise<BenchmarkReport> {
  const bytes = fileBytesOf(context);
  if (!requireTool('iperf3', 'iperf3', context.log)) throw new Error('iperf3 is not installed');
  if (!requireTool('time', 'time', context.log))
    throw new Error(`${GNU_TIME} (Debian: time) is not installed`);
  const loadBefore = loadNote('before');
  const timeoutMs = transferTimeoutMs(bytes);
  const dir = await mkdtemp(join(tmpdir(), 'buddybench-throughput-'));
  let series: Series | undefined;
  try {
    const file = await writeTestFile(join(dir, 'file.bin'), bytes);
    const place = await plan.open();
    const s: Series = { place: place.name, ours: {}, ceiling: [], iperf: [] };
    try {
      context.log(`${place.name} up (${place.id}); file of ${mebibytes(bytes)}`);
      const { hosts } = place;
      const cli = new BuddylinkCli(hosts, dir, place.ws, place.stun, place.serverPid);
      await cli.makeBuddies();
      await startIperfServer((argv) => hosts.spawn('bob', argv), IPERF_PORT);
      const inbox = join(dir, 'inbox');
      const ours = plan.paths.map((path) => async (warm: boolean, label: string) => {
        const r = await cli.transfer(path, file, inbox, timeoutMs);
        if (r.path !== path) throw new Error(`send --path ${path} went over ${r.path}`);
        if (!warm) s.ours[path] = [...(s.ours[path] ?? []), r];
        context.log(
          `${label} send --path ${path}: ${(bytes / r.transferSeconds / 1e6).toFixed(1)} MB/s transfer, ${r.sendCommandSeconds.toFixed(2)} s whole send`,
        );
      });
      const ceiling = async (warm: boolean, label: string) => {
        const out = join(inbox, 'cipher.bin');
        const r = await runCipherCeiling(hosts, place.bobAddress, file, out, dir, timeoutMs);
        if (!warm) s.ceiling.push(r);
        context.log(`${label} cipher over TCP: ${(bytes / r.transferSeconds / 1e6).toFixed(1)} MB/s`);
      };
      const iperf = async (warm: boolean, label: string) => {
        const exec = (argv: readonly string[], o: object) => hosts.exec('alice', argv, o);
        const r = await runIperf(exec, place.bobAddress, IPERF_PORT, ['-n', String(bytes)]);
        if (!warm) s.iperf.push(r);
        context.log(`${label} iperf3: ${(r.bytesPerSecond / 1e6).toFixed(1)} MB/s`);
      };
      await mkdir(inbox);
      await interleaved([...ours, ceiling, iperf], warmupsOf(context), context.runs, async () => {
        await rm(inbox, { recursive: true, force: true });
        await mkdir(inbox);
        await pause(200);
      });
      series = s;
    } finally {
      await place.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return report(context, plan, bytes, series, loadBefore);
}

function report(
  context: BenchmarkContext,
  plan: ThroughputPlan,
  bytes: number,
  s: Series,
  loadBefore: string,
): BenchmarkReport {
  const ceilingRates = s.ceiling.map((r) => r.bytes / r.transferSeconds);
  const iperfRates = s.iperf.map((r) => r.bytesPerSecond);
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  const cpu = (u: { userSeconds: number; systemSeconds: number }) => u.userSeconds + u.systemSeconds;
  for (const path of plan.paths) {
    const runs = s.ours[path] ?? [];
    const transfer = runs.map((r) => bytes / r.transferSeconds);
    const against: Record<'cipher' | 'iperf3', Spread> = {
      cipher: pairedRatio(transfer, ceilingRates),
      iperf3: pairedRatio(transfer, iperfRates),
    };
    rows.push([
      `buddylink send --path ${path}`,
      rates(transfer),
      ratio(against.cipher),
      ratio(against.iperf3),
      rates(runs.map((r) => bytes / r.sendCommandSeconds)),
      nsPerByte(
        runs.map((r) => r.senderTransferCpu),
        bytes,
      ),
      nsPerByte(
        runs.map((r) => r.receiverTransferCpu),
        bytes,
      ),
      `${nsPerByte(
        runs.map((r) => cpu(r.sender)),
        bytes,
      )} / ${nsPerByte(
        runs.map((r) => cpu(r.receiver)),
        bytes,
      )}`,
    ]);
    const serverCpu = runs.flatMap((r) => (r.serverTransferCpu === undefined ? [] : [r.serverTransferCpu]));
    if (serverCpu.length > 0)
      notes.push(
        `${path}: server CPU over the transfer (sender's connected → sent, /proc of the server process) ${nsPerByte(serverCpu, bytes)} ns/B`,
      );
    const goal = plan.goals[path];
    if (goal)
      notes.push(
        `${path}: ours / ${goal.against === 'cipher' ? 'cipher over TCP' : 'iperf3'} ${ratio(against[goal.against])}, ${verdict(against[goal.against], goal.atLeast, 'higher')}`,
      );
  }
  // The two ceilings: rate, ratios and CPU per byte of their sending and receiving process.
  const ceilingRow = (name: string, rate: number[], vs: [string, string], cpu: [number[], number[]]) =>
    rows.push([name, rates(rate), ...vs, '', nsPerByte(cpu[0], bytes), nsPerByte(cpu[1], bytes), '']);
  ceilingRow(
    'same cipher over TCP (secret-stream on net.Socket)',
    ceilingRates,
    ['1', ratio(pairedRatio(ceilingRates, iperfRates))],
    [s.ceiling.map((r) => r.senderCpu), s.ceiling.map((r) => r.receiverCpu)],
  );
  ceilingRow(
    'iperf3 TCP (clear text, no file)',
    iperfRates,
    ['', '1'],
    [s.iperf.map((r) => r.senderCpuSeconds), s.iperf.map((r) => r.receiverCpuSeconds)],
  );
  notes.push(loadBefore, loadNote('after'));
  return {
    title: plan.title(bytes),
    setup: [
      ...plan.where,
      `buddylink: per run a fresh \`receive --once --json\` (bob, waited for \`ready\`) and \`send bob FILE --path P --json\` (alice, --stun at the server's STUN port; server with relay caps raised); the file is ${mebibytes(bytes)} of random bytes, sha256 checked against the sender's, the receiver's and the file's own`,
      'transfer MB/s = bytes / (sender `connected` line → `sent` line, i.e. until the receiver confirmed the hash); whole send = `send` started → both commands exited (file on disk)',
      'same cipher over TCP: bench/transfer/cipher-peer.ts, two Node processes, @hyperswarm/secret-stream (Noise XX, XChaCha20-Poly1305) on a plain net.Socket from alice to bob, with the same file pipeline (read 256 KiB chunks + sha256 → encrypt; decrypt → sha256 + write); timed from handshake done to the receiver closing after the file is on disk',
      `iperf3 TCP, one stream, -n ${bytes} from alice to bob; rate = iperf3's receiver-side sum; clear text, memory to memory`,
      'CPU ns/B = CPU seconds per 10^9 bytes (user + system): ours over each side’s own connected → sent / received window (/proc/<pid>/stat at those lines), whole command from GNU time; cipher peers: process.cpuUsage in the child; iperf3: its cpu_utilization_percent',
      `${warmupsOf(context)} warm-up + ${context.runs} measured runs, contenders interleaved in rotating order; figures: median (min–max); ratios paired per run; MB = 10^6 bytes`,
    ],
    columns: [
      'what',
      'transfer MB/s',
      'vs cipher over TCP',
      'vs iperf3',
      'whole send command MB/s',
      'sender CPU ns/B',
      'receiver CPU ns/B',
      'whole command CPU ns/B (send / receive)',
    ],
    rows,
    notes,
    data: { bytes, place: s.place, runs: s },
  };
}
