import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js';
import { hottestFunctions, newestProfile } from './harness/cpu-profile.js';
import { requireTool } from './harness/processes.js';
import { type IperfRun, iperfPort, prepareIperf, runIperfInLab } from './lab-bench/iperf.js';
import { LIMITS, PATH_TOPOLOGIES, SIZES } from './lab-bench/options.js';
import {
  formatSpread,
  loadNote,
  megabytes,
  pairedRatio,
  ratio,
  spread,
  verdict,
} from './lab-bench/report.js';
import { pause, World } from './lab-bench/world.js';

/**
 * Issue 6, row 5: bulk throughput over each path (LAN, internet, relay) in the NAT lab against
 * iperf3 TCP between the same two hosts over the same hops: LAN direct; internet through both NATs
 * (a port forward on bob's NAT for iperf3, since TCP cannot punch); relay through a plain TCP
 * forwarder in the server host (kernel TCP on both legs).
 *
 * Held constant: the same lab and hosts for both, runs interleaved (order alternating), a fresh
 * connection per run for ours (connect time excluded: only the bulk transfer is timed), receiver-side
 * rates for both, the same delay setting.
 */

const GOALS = { lan: 0.8, internet: 0.8, relay: 0.5 } as const;

interface OurRun {
  bytesPerSecond: number;
  bytes: number;
  ms: number;
  /** CPU of the sending and the receiving client process over the transfer. */
  cpuSeconds: number;
  /** The same split: user (JS, crypto, libuv) and system (syscalls, and the lab's veth/NAT path they drive). */
  senderUserMs: number;
  senderSystemMs: number;
  receiverUserMs: number;
  receiverSystemMs: number;
}

function mb(values: readonly number[]): string {
  return formatSpread(spread(values.map(megabytes)), 1);
}

async function run(context: BenchmarkContext): Promise<BenchmarkReport> {
  const size = context.smoke ? SIZES.smoke : SIZES.full;
  const paths = context.smoke ? PATH_TOPOLOGIES.filter((p) => p.path === 'relay') : PATH_TOPOLOGIES;
  // The peer must be there (installed with apt-get as root when missing, as for coturn).
  if (!requireTool('iperf3', 'iperf3', context.log)) throw new Error('iperf3 is not installed');
  const loadBefore = loadNote('before');
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  const data: Record<string, { ours: OurRun[]; iperf: IperfRun[]; delayMode: string }> = {};
  for (const delayMs of size.throughputDelays) {
    for (const p of paths) {
      const key = `${p.path}@${delayMs}ms`;
      const profileDir = context.profile
        ? join(context.resultsDir, 'profiles', 'lab-throughput', `${p.path}-${delayMs}ms`)
        : undefined;
      const world = await World.open({
        topology: p.topology,
        delayMs,
        globalAddressTtlMs: 20_000,
        agentNodeArgs: (user) => {
          if (!profileDir) return [];
          mkdirSync(join(profileDir, user), { recursive: true });
          return ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, user)}`];
        },
      });
      const ours: OurRun[] = [];
      const iperf: IperfRun[] = [];
      const delayMode = world.delayMode;
      try {
        context.log(`${key}: lab ${p.topology} up (${world.lab.runId})`);
        const target = await prepareIperf(world, p.path);
        for (let i = 0; i < size.warmups + context.runs; i++) {
          const warm = i < size.warmups;
          const label = warm ? 'warm-up' : `run ${i - size.warmups + 1}/${context.runs}`;
          const steps = [
            async () => {
              world.alice.send({
                cmd: 'connect',
                buddy: 'bob',
                path: p.force ? p.path : 'auto',
                bytes: size.transferBytes,
              });
              const connected = await world.alice.next('connected', LIMITS.connectTimeoutMs);
              if (connected.path !== p.path)
                throw new Error(`expected ${p.path}, got ${String(connected.path)}`);
              const received = await world.bob.next('received', LIMITS.transferTimeoutMs);
              const sent = await world.alice.next('sent', LIMITS.transferTimeoutMs);
              const bytes = Number(received.bytes);
              if (bytes !== size.transferBytes)
                throw new Error(`bob received ${bytes} bytes of ${size.transferBytes}`);
              const r = {
                bytes,
                ms: Number(received.ms),
                bytesPerSecond: bytes / (Number(received.ms) / 1000),
                cpuSeconds: (Number(received.cpuMs) + Number(sent.cpuMs)) / 1000,
                senderUserMs: Number(sent.userMs),
                senderSystemMs: Number(sent.systemMs),
                receiverUserMs: Number(received.userMs),
                receiverSystemMs: Number(received.systemMs),
              };
              if (!warm) ours.push(r);
              context.log(`${key} ${label} buddylink: ${megabytes(r.bytesPerSecond).toFixed(1)} MB/s`);
            },
            async () => {
              const r = await runIperfInLab(world, target, iperfPort(p.path), size.iperfAmount);
              if (!warm) iperf.push(r);
              context.log(
                `${key} ${label} iperf3: ${megabytes(r.bytesPerSecond).toFixed(1)} MB/s (${r.retransmits} retransmits)`,
              );
            },
          ];
          if (i % 2 === 1) steps.reverse();
          for (const step of steps) {
            await step();
            await pause(LIMITS.betweenRunsMs);
          }
        }
      } finally {
        await world.close();
      }
      data[key] = { ours, iperf, delayMode };
      if (delayMode === 'wire' && p.path !== 'lan')
        notes.push(
          `${key}: the delay is lab/delay-wire.py (no netem in this kernel), a user-space forwarder with GSO capped at one segment: it bounds both sides' rate on this path, so this row measures the wire, not the peers`,
        );
      const r = pairedRatio(
        ours.map((x) => x.bytesPerSecond),
        iperf.map((x) => x.bytesPerSecond),
      );
      const perCpu = (bytes: number, cpu: number) => bytes / Math.max(0.001, cpu);
      rows.push([
        p.path,
        delayMs,
        mb(ours.map((x) => x.bytesPerSecond)),
        mb(iperf.map((x) => x.bytesPerSecond)),
        ratio(r),
        verdict(r, GOALS[p.path], 'higher'),
        mb(ours.map((x) => perCpu(x.bytes, x.cpuSeconds))),
        mb(iperf.map((x) => perCpu(x.bytesPerSecond * x.seconds, x.cpuSeconds))),
      ]);
      if (profileDir) {
        for (const user of ['alice', 'bob']) {
          const profile = newestProfile(join(profileDir, user));
          if (!profile) continue;
          notes.push(
            `CPU profile of ${user} (${user === 'alice' ? 'sender' : 'receiver'}), ${key}: ${profile}`,
          );
          for (const f of hottestFunctions(profile, 8))
            notes.push(`  self ${f.selfPercent.toFixed(1)}% ${f.name} ${f.where}`);
        }
      }
    }
  }
  notes.push(loadBefore, loadNote('after'));
  return {
    title: 'Bulk throughput in the NAT lab: buddylink vs iperf3 TCP over the same hops',
    setup: [
      "labs: lan = one-nat (alice → bob on one LAN), internet = two-nats (through both NATs; iperf3 gets a TCP port forward on bob's NAT), relay = udp-blocked with the relay path forced (iperf3 through a Node TCP forwarder, pipe() both ways, in the server host: same hops)",
      `buddylink: a fresh connect() per run, then alice writes ${size.transferBytes / 1024 ** 2} MiB (64 KiB writes of random bytes, back-pressure respected) and ends; rate = bytes / (bob's first to last byte); bytes checked. The Noise stream (XChaCha20-Poly1305) authenticates every byte; iperf3 is clear text`,
      `iperf3 3.12 TCP, one stream, ${size.iperfAmount.join(' ')}, from alice to bob; rate = iperf3's receiver-side sum`,
      'server relay caps raised for the benchmark (--relay-bytes-per-second, --relay-max-bytes; defaults are 8 MiB/s and 256 MiB per session, operator policy)',
      'MB per CPU-s: bytes moved per CPU-second of both ends (buddylink: process.cpuUsage of sender and receiver over the transfer; iperf3: its own cpu_utilization_percent of client and server): the figure that a loaded, shared machine moves least',
      `delay = one-way delay on each internet link's egress (0 = none; tc netem, or lab/delay-wire.py where the kernel has no netem); ${size.warmups} warm-up + ${context.runs} measured runs, interleaved, order alternating; figures: median (min–max) MB/s (10^6 bytes)`,
    ],
    columns: [
      'path',
      'delay ms',
      'buddylink MB/s',
      'iperf3 MB/s',
      'ratio',
      'goal',
      'buddylink MB per CPU-s',
      'iperf3 MB per CPU-s',
    ],
    rows,
    notes,
    data: { sizes: size, runs: data },
  };
}

export const labThroughputBenchmark: Benchmark = {
  name: 'lab-throughput',
  description: 'NAT lab: bulk throughput per path (LAN, internet, relay) vs iperf3 TCP over the same hops',
  run,
};
