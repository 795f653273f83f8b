import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CommandResult, RunOptions } from '../../lab/command.js';
import { LAB_ADDRESSES, LAB_PORTS, LIMITS } from './options.js';
import { pause, type World } from './world.js';

/** iperf3 TCP between the same two lab hosts as ours, over the same hops, as the throughput peer. */

const FORWARDER = fileURLToPath(new URL('./tcp-forwarder.js', import.meta.url));

export interface IperfRun {
  /** Receiver-side rate (iperf3 end.sum_received), bytes per second. */
  bytesPerSecond: number;
  seconds: number;
  retransmits: number;
  /** CPU seconds of both iperf3 processes over the test (iperf3's own cpu_utilization_percent). */
  cpuSeconds: number;
  /** The same, of the sending client and of the receiving server. */
  senderCpuSeconds: number;
  receiverCpuSeconds: number;
}

/** Runs a command where the iperf3 client goes (alice's host, or the loopback namespace). */
export type Exec = (argv: readonly string[], opts: RunOptions) => Promise<CommandResult>;

/** `iperf3 -s` started by `spawn` (in bob's host), once it says it is listening. */
export async function startIperfServer(
  spawn: (argv: readonly string[]) => ChildProcess,
  port: number,
): Promise<ChildProcess> {
  const server = spawn(['iperf3', '-s', '--forceflush', '-p', String(port)]);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('iperf3 -s did not start')), LIMITS.startTimeoutMs);
    server.stdout?.on('data', (chunk: Buffer) => {
      if (!chunk.toString('utf8').includes('listening')) return;
      clearTimeout(timer);
      resolve();
    });
    server.once('exit', (code) => reject(new Error(`iperf3 -s exited ${code}`)));
  });
  return server;
}

/**
 * A port forward on bob's NAT (homeB) for iperf3's port: TCP cannot punch, so the peer gets the
 * forward a user would set up; our path needs none. In the router's own namespace, its own table.
 */
async function forwardIperfToBob(world: World): Promise<void> {
  const ruleset = [
    'table ip buddybench {',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    `    ip daddr ${LAB_ADDRESSES.homeBWan} tcp dport ${LAB_PORTS.iperf} dnat to ${LAB_ADDRESSES.bobBehindHomeB}`,
    '  }',
    '}',
  ].join('\n');
  await world.lab.exec('homeB', ['nft', '-f', '-'], { input: `${ruleset}\n` });
}

/** Starts iperf3 -s in bob's host and whatever the path needs; returns the address alice dials. */
export async function prepareIperf(world: World, path: 'lan' | 'internet' | 'relay'): Promise<string> {
  await startIperfServer((argv) => world.lab.spawn('bob', argv), LAB_PORTS.iperf);
  if (path === 'lan') return LAB_ADDRESSES.bobOnLan;
  await forwardIperfToBob(world);
  if (path === 'internet') return LAB_ADDRESSES.homeBWan;
  const forwarder = world.spawn(
    'tcp-forwarder',
    'server',
    [
      'node',
      FORWARDER,
      LAB_ADDRESSES.server,
      String(LAB_PORTS.forwarder),
      LAB_ADDRESSES.homeBWan,
      String(LAB_PORTS.iperf),
    ],
    false,
  );
  await forwarder.next('listening', LIMITS.startTimeoutMs);
  return LAB_ADDRESSES.server;
}

export function iperfPort(path: 'lan' | 'internet' | 'relay'): number {
  return path === 'relay' ? LAB_PORTS.forwarder : LAB_PORTS.iperf;
}

/** One iperf3 TCP run from alice: `amount` is ['-t', SECONDS] or ['-n', BYTES]. */
export function runIperfInLab(
  world: World,
  target: string,
  port: number,
  amount: readonly string[],
): Promise<IperfRun> {
  return runIperf((argv, opts) => world.lab.exec('alice', argv, opts), target, port, amount);
}

/** One iperf3 TCP client run through `exec`, parsed from its JSON report. */
export async function runIperf(
  exec: Exec,
  target: string,
  port: number,
  amount: readonly string[],
): Promise<IperfRun> {
  const argv = ['iperf3', '-c', target, '-p', String(port), ...amount, '-J'];
  for (let attempt = 0; ; attempt++) {
    const { stdout, exitCode } = await exec(argv, {
      allowFailure: true,
      timeoutMs: LIMITS.transferTimeoutMs,
    });
    const report = JSON.parse(stdout || '{}') as {
      error?: string;
      end?: {
        sum_received?: { bytes: number; seconds: number };
        sum_sent?: { retransmits?: number; seconds?: number };
        cpu_utilization_percent?: { host_total: number; remote_total: number };
      };
    };
    const received = report.end?.sum_received;
    if (exitCode === 0 && received) {
      const cpu = report.end?.cpu_utilization_percent;
      const seconds = report.end?.sum_sent?.seconds ?? received.seconds;
      const senderCpuSeconds = ((cpu?.host_total ?? 0) / 100) * seconds;
      const receiverCpuSeconds = ((cpu?.remote_total ?? 0) / 100) * seconds;
      return {
        bytesPerSecond: received.bytes / received.seconds,
        seconds: received.seconds,
        retransmits: report.end?.sum_sent?.retransmits ?? 0,
        cpuSeconds: senderCpuSeconds + receiverCpuSeconds,
        senderCpuSeconds,
        receiverCpuSeconds,
      };
    }
    // iperf3 -s serves one test at a time and may still be closing the last: retry once, shortly.
    if (attempt >= 2) throw new Error(`iperf3 failed (${exitCode}): ${report.error ?? stdout.slice(0, 300)}`);
    await pause(500);
  }
}
