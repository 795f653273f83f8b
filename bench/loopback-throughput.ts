import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js';
import { requireTool } from './harness/processes.js';
import { type IperfRun, runIperf, startIperfServer } from './lab-bench/iperf.js';
import { loadNote, pairedRatio, ratio, verdict } from './lab-bench/report.js';
import { pause } from './lab-bench/world.js';
import { BuddylinkCli, type CliTransfer, startBuddylinkServer } from './transfer/buddylink-cli.js';
import { type CeilingRun, runCipherCeiling } from './transfer/cipher-ceiling.js';
import { loopbackHosts } from './transfer/hosts.js';
import { interleaved } from './transfer/interleave.js';
import { LoopbackHost } from './transfer/loopback-host.js';
import { fileBytesOf, mebibytes, nsPerByte, rates, transferTimeoutMs, warmupsOf } from './transfer/sizes.js';
import { writeTestFile } from './transfer/test-file.js';
import { GNU_TIME } from './transfer/timed-process.js';

/**
 * Issue 9, item 4, row 1: the real CLI, `buddylink send --path P` → `buddylink receive --once`, per
 * path on loopback, against (a) the same cipher (@hyperswarm/secret-stream) over a plain TCP socket
 * with the same file pipeline, the ceiling of the crypto here, and (b) iperf3 TCP, the ceiling of
 * the kernel. Everything runs in a namespace with only `lo` (bench/transfer/loopback-host.ts).
 *
 * Held constant: one file of random bytes, one server, the same two homes; a fresh pair of
 * commands per run; all contenders interleaved in rotating order; sha256 checked on every transfer.
 */

const PATHS = ['lan', 'internet', 'relay'] as const;
const GOALS = { lan: 0.9, internet: 0.9 } as const;
const IPERF_PORT = 5201;

interface Series {
  ours: Record<(typeof PATHS)[number], CliTransfer[]>;
  ceiling: CeilingRun[];
  iperf: IperfRun[];
}

async function run(context: BenchmarkContext): Promise<BenchmarkReport> {
  const bytes = fileBytesOf(context);
  if (!requireTool('iperf3', 'iperf3', context.log)) throw new Error('iperf3 is not installed');
  if (!requireTool('time', 'time', context.log))
    throw new Error(`${GNU_TIME} (Debian: time) is not installed`);
  const loadBefore = loadNote('before');
  const timeoutMs = transferTimeoutMs(bytes);
  const series: Series = { ours: { lan: [], internet: [], relay: [] }, ceiling: [], iperf: [] };
  const host = await LoopbackHost.open();
  const dir = await mkdtemp(join(tmpdir(), 'buddybench-loopback-'));
  try {
    context.log(`loopback namespace ${host.ns}; writing ${mebibytes(bytes)} of random bytes`);
    const hosts = loopbackHosts(host);
    const file = await writeTestFile(join(dir, 'file.bin'), bytes);
    const { ws, stun } = await startBuddylinkServer(hosts, '127.0.0.1');
    const cli = new BuddylinkCli(hosts, dir, ws, stun);
    await cli.makeBuddies();
    await startIperfServer((argv) => hosts.spawn('bob', argv), IPERF_PORT);
    const inbox = join(dir, 'inbox');
    const emptyInbox = async () => {
      await rm(inbox, { recursive: true, force: true });
      await mkdir(inbox);
    };
    const ours = PATHS.map((path) => async (warm: boolean, label: string) => {
      const r = await cli.transfer(path, file, inbox, timeoutMs);
      if (r.path !== path) throw new Error(`send --path ${path} went over ${r.path}`);
      if (!warm) series.ours[path].push(r);
      context.log(
        `${label} send --path ${path}: ${(bytes / r.transferSeconds / 1e6).toFixed(1)} MB/s transfer, ${r.sendCommandSeconds.toFixed(2)} s whole send`,
      );
    });
    const ceiling = async (warm: boolean, label: string) => {
      const r = await runCipherCeiling(hosts, '127.0.0.1', file, join(inbox, 'cipher.bin'), dir, timeoutMs);
      if (!warm) series.ceiling.push(r);
      context.log(`${label} cipher over TCP: ${(bytes / r.transferSeconds / 1e6).toFixed(1)} MB/s`);
    };
    const iperf = async (warm: boolean, label: string) => {
      const r = await runIperf((argv, o) => host.exec(argv, o), '127.0.0.1', IPERF_PORT, [
        '-n',
        String(bytes),
      ]);
      if (!warm) series.iperf.push(r);
      context.log(`${label} iperf3: ${(r.bytesPerSecond / 1e6).toFixed(1)} MB/s`);
    };
    await interleaved([...ours, ceiling, iperf], warmupsOf(context), context.runs, async () => {
      await emptyInbox();
      await pause(200);
    });
  } finally {
    await host.down();
    await rm(dir, { recursive: true, force: true });
  }
  return report(context, bytes, series, loadBefore);
}

function report(context: BenchmarkContext, bytes: number, s: Series, loadBefore: string): BenchmarkReport {
  const ceilingRates = s.ceiling.map((r) => r.bytes / r.transferSeconds);
  const iperfRates = s.iperf.map((r) => r.bytesPerSecond);
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  for (const path of PATHS) {
    const runs = s.ours[path];
    const transfer = runs.map((r) => bytes / r.transferSeconds);
    const vsCeiling = pairedRatio(transfer, ceilingRates);
    const vsIperf = pairedRatio(transfer, iperfRates);
    rows.push([
      `buddylink send --path ${path}`,
      rates(transfer),
      ratio(vsCeiling),
      ratio(vsIperf),
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
        runs.map((r) => r.sender.userSeconds + r.sender.systemSeconds),
        bytes,
      )} / ${nsPerByte(
        runs.map((r) => r.receiver.userSeconds + r.receiver.systemSeconds),
        bytes,
      )}`,
    ]);
    if (path !== 'relay')
      notes.push(
        `${path}: ours / cipher over TCP ${ratio(vsCeiling)}, ${verdict(vsCeiling, GOALS[path], 'higher')}`,
      );
  }
  rows.push([
    'same cipher over TCP (secret-stream on net.Socket)',
    rates(ceilingRates),
    '1',
    ratio(pairedRatio(ceilingRates, iperfRates)),
    '',
    nsPerByte(
      s.ceiling.map((r) => r.senderCpu),
      bytes,
    ),
    nsPerByte(
      s.ceiling.map((r) => r.receiverCpu),
      bytes,
    ),
    '',
  ]);
  rows.push([
    'iperf3 TCP (clear text, no file)',
    rates(iperfRates),
    '',
    '1',
    '',
    nsPerByte(
      s.iperf.map((r) => r.senderCpuSeconds),
      bytes,
    ),
    nsPerByte(
      s.iperf.map((r) => r.receiverCpuSeconds),
      bytes,
    ),
    '',
  ]);
  notes.push(loadBefore, loadNote('after'));
  return {
    title: `Loopback throughput of the CLI per path vs the same cipher over TCP and iperf3 (${mebibytes(bytes)})`,
    setup: [
      'all processes in one network namespace holding only lo (127.0.0.1): the server (`buddylink server --json`, kernel-chosen ports, relay caps raised), both CLIs, the cipher peers, iperf3',
      `buddylink: per run a fresh \`receive --once --json\` (bob, waited for \`ready\`) and \`send bob FILE --path P --json\` (alice, --stun at the server's STUN port); the file is ${mebibytes(bytes)} of random bytes, sha256 checked against the sender's, the receiver's and the file's own`,
      'transfer MB/s = bytes / (sender `connected` line → `sent` line, i.e. until the receiver confirmed the hash); whole send = `send` started → both commands exited (file on disk)',
      'same cipher over TCP: bench/transfer/cipher-peer.ts, two Node processes, @hyperswarm/secret-stream (Noise XX, XChaCha20-Poly1305) on a plain net.Socket, with the same file pipeline (read 256 KiB chunks + sha256 → encrypt; decrypt → sha256 + write); timed from handshake done to the receiver closing after the file is on disk',
      `iperf3 TCP, one stream, -n ${bytes} from alice's side to bob's; rate = iperf3's receiver-side sum; clear text, memory to memory`,
      'CPU ns/B = CPU seconds per 10^9 bytes (user + system): ours over each side’s own connected → sent / received window (/proc/<pid>/stat at those lines), whole command from GNU time; cipher peers: process.cpuUsage in the child; iperf3: its cpu_utilization_percent',
      `${warmupsOf(context)} warm-up + ${context.runs} measured runs, contenders interleaved in rotating order; figures: median (min–max); ratios paired per run`,
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
    data: { bytes, runs: s },
  };
}

export const loopbackThroughputBenchmark: Benchmark = {
  name: 'loopback-throughput',
  description: 'CLI send → receive per path on loopback vs the same cipher over TCP and iperf3',
  run,
};
