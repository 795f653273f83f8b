import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js';
import { requirePackageFile, requireTool } from './harness/processes.js';
import { formatSpread, spread } from './harness/stats.js';
import { loadNote, pairedRatio, ratio, verdict } from './lab-bench/report.js';
import { pause } from './lab-bench/world.js';
import { BuddylinkCli, type CliTransfer } from './transfer/buddylink-cli.js';
import { interleaved } from './transfer/interleave.js';
import { openLabLan, openLoopback, type Place } from './transfer/places.js';
import { fileBytesOf, mebibytes, nsPerByte, rates, transferTimeoutMs, warmupsOf } from './transfer/sizes.js';
import { type TestFile, writeTestFile } from './transfer/test-file.js';
import { GNU_TIME } from './transfer/timed-process.js';
import {
  startWormholeServers,
  TWIST,
  TWISTED_PLUGINS,
  WORMHOLE,
  WormholeCli,
  type WormholeTransfer,
} from './transfer/wormhole.js';

/**
 * Issue 9, item 4, row 3: end to end against a file-transfer tool people use, magic-wormhole, with
 * its mailbox and transit relay run locally, on loopback and on the lab LAN (one NAT; the servers
 * of both tools in the lab's server host). The whole commands are timed, as a user waits for them.
 *
 * Held constant: the same file, the same hosts, both tools' servers in the same place, a fresh pair
 * of commands per run, interleaved in rotating order, sha256 checked for both.
 */

const GOAL = 1.5;
/** Debian's packages, each known by a file it installs; apt-get installs them when missing (root). */
const DEBIAN_PACKAGES = [
  [WORMHOLE, 'magic-wormhole'],
  [TWIST, 'python3-twisted'],
  [`${TWISTED_PLUGINS}/magic_wormhole_mailbox.py`, 'python3-magic-wormhole-mailbox-server'],
  [`${TWISTED_PLUGINS}/magic_wormhole_transit_relay.py`, 'magic-wormhole-transit-relay'],
] as const;

interface PlaceSeries {
  place: string;
  ours: CliTransfer[];
  wormhole: WormholeTransfer[];
}

function requireWormhole(log: (line: string) => void): void {
  for (const [path, pkg] of DEBIAN_PACKAGES)
    if (!requirePackageFile(path, pkg, log)) throw new Error(`${path} is missing (Debian: ${pkg})`);
}

async function measure(
  context: BenchmarkContext,
  place: Place,
  file: TestFile,
  dir: string,
): Promise<PlaceSeries> {
  const series: PlaceSeries = { place: place.name, ours: [], wormhole: [] };
  const timeoutMs = transferTimeoutMs(file.bytes);
  const ours = new BuddylinkCli(place.hosts, dir, place.ws, place.stun);
  await ours.makeBuddies();
  const theirs = new WormholeCli(
    place.hosts,
    dir,
    await startWormholeServers(place.hosts, place.serverAddress, dir),
  );
  const inbox = join(dir, 'inbox');
  await mkdir(inbox, { recursive: true });
  const steps = [
    async (warm: boolean, label: string) => {
      const r = await ours.transfer('auto', file, inbox, timeoutMs);
      if (!warm) series.ours.push(r);
      context.log(
        `${place.name} ${label} buddylink (${r.path}): ${r.bothCommandsSeconds.toFixed(2)} s both commands; send → connected ${r.senderConnectedSeconds.toFixed(2)} s; tries: ${r.attempts.join(', ')}`,
      );
    },
    async (warm: boolean, label: string) => {
      const r = await theirs.transfer(file, join(inbox, 'wormhole.bin'), timeoutMs);
      if (!warm) series.wormhole.push(r);
      context.log(
        `${place.name} ${label} wormhole (${r.via}): ${r.bothCommandsSeconds.toFixed(2)} s both commands`,
      );
    },
  ];
  await interleaved(steps, warmupsOf(context), context.runs, async () => {
    await rm(inbox, { recursive: true, force: true });
    await mkdir(inbox);
    await pause(200);
  });
  return series;
}

async function run(context: BenchmarkContext): Promise<BenchmarkReport> {
  const bytes = fileBytesOf(context);
  requireWormhole(context.log);
  if (!requireTool('time', 'time', context.log))
    throw new Error(`${GNU_TIME} (Debian: time) is not installed`);
  const loadBefore = loadNote('before');
  const dir = await mkdtemp(join(tmpdir(), 'buddybench-wormhole-'));
  const results: PlaceSeries[] = [];
  try {
    const file = await writeTestFile(join(dir, 'file.bin'), bytes);
    for (const open of [openLoopback, () => openLabLan()]) {
      const place = await open();
      context.log(`${place.name} up (${place.id})`);
      const placeDir = join(dir, place.id);
      await mkdir(placeDir);
      try {
        results.push(await measure(context, place, file, placeDir));
      } finally {
        await place.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return report(context, bytes, results, loadBefore);
}

function report(
  context: BenchmarkContext,
  bytes: number,
  results: PlaceSeries[],
  loadBefore: string,
): BenchmarkReport {
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  const cpu = (u: { userSeconds: number; systemSeconds: number }) => u.userSeconds + u.systemSeconds;
  for (const s of results) {
    const ours = s.ours.map((r) => bytes / r.bothCommandsSeconds);
    const theirs = s.wormhole.map((r) => bytes / r.bothCommandsSeconds);
    const r = pairedRatio(ours, theirs);
    rows.push([
      s.place,
      `buddylink receive --once, then send (auto: ${[...new Set(s.ours.map((x) => x.path))].join(', ')})`,
      rates(ours),
      ratio(r),
      rates(s.ours.map((x) => bytes / x.sendCommandSeconds)),
      nsPerByte(
        s.ours.map((x) => cpu(x.sender)),
        bytes,
      ),
      nsPerByte(
        s.ours.map((x) => cpu(x.receiver)),
        bytes,
      ),
    ]);
    rows.push([
      s.place,
      `wormhole send, receive at once (${[...new Set(s.wormhole.map((x) => x.via))].join(', ')})`,
      rates(theirs),
      '1',
      '',
      nsPerByte(
        s.wormhole.map((x) => cpu(x.sender)),
        bytes,
      ),
      nsPerByte(
        s.wormhole.map((x) => cpu(x.receiver)),
        bytes,
      ),
    ]);
    notes.push(
      `${s.place}: buddylink / wormhole, whole commands: ${ratio(r)}, ${verdict(r, GOAL, 'higher')}`,
      `${s.place}: buddylink time outside the bytes, s: receive started → ready ${seconds(s.ours.map((x) => x.receiverReadySeconds))}; send started → connected ${seconds(s.ours.map((x) => x.senderConnectedSeconds))}; sent → both exited ${seconds(s.ours.map((x) => x.exitSeconds))}; transfer (connected → sent) ${seconds(s.ours.map((x) => x.transferSeconds))}`,
    );
  }
  notes.push(loadBefore, loadNote('after'));
  return {
    title: `End to end against magic-wormhole: ${mebibytes(bytes)}, whole commands (loopback and lab LAN)`,
    setup: [
      'magic-wormhole 0.12 (Debian magic-wormhole), its mailbox (twist3 wormhole-mailbox) and transit relay (twist3 transitrelay) run locally on /usr/bin/python3; the client gets --relay-url ws://SERVER:4000/v1 --transit-helper tcp:SERVER:4001',
      'loopback: everything in one namespace holding only lo; lab LAN: one-nat (alice and bob on one LAN behind one NAT), both tools’ servers in the lab server host on the lab internet',
      `buddylink: \`receive --once --json\` started in bob and waited for \`ready\` (logged on: our receiver must be online), then \`send bob FILE\` (auto path) in alice; wormhole: \`send --code C FILE\` in alice and at once \`receive --accept-file -o OUT C\` in bob. MB/s = ${mebibytes(bytes)} / (first command started → both commands exited, file complete on disk); sha256 checked for both`,
      'send command MB/s (ours only): `send` started, receiver already online → both exited, the usual case of a buddy who stays logged on',
      'CPU ns/B = CPU seconds (user + system, GNU time) of each whole command per 10^9 bytes',
      `${warmupsOf(context)} warm-up + ${context.runs} measured runs per place, the two tools interleaved in rotating order; figures: median (min–max); ratio paired per run`,
    ],
    columns: [
      'where',
      'tool',
      'both commands MB/s',
      'ours / wormhole',
      'send command MB/s',
      'sender CPU ns/B',
      'receiver CPU ns/B',
    ],
    rows,
    notes,
    data: { bytes, results },
  };
}

/** "median (min–max)" of seconds, to the millisecond. */
function seconds(values: readonly number[]): string {
  return formatSpread(spread(values), 3);
}

export const wormholeBenchmark: Benchmark = {
  name: 'wormhole',
  description: 'end to end against magic-wormhole (its servers local): whole commands, loopback and lab LAN',
  run,
};
