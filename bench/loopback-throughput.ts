import type { Benchmark } from './harness/benchmark.js';
import { measureCliThroughput } from './transfer/cli-throughput.js';
import { openLoopback } from './transfer/places.js';
import { mebibytes } from './transfer/sizes.js';

/**
 * Issue 9, item 4, row 1: MB/s of the real CLI per path on loopback against the same cipher over
 * TCP (the ceiling of the crypto on this machine) and iperf3 TCP, all in a namespace holding only lo.
 */
export const loopbackThroughputBenchmark: Benchmark = {
  name: 'loopback-throughput',
  description: 'CLI send → receive per path on loopback vs the same cipher over TCP and iperf3',
  run: (context) =>
    measureCliThroughput(context, {
      open: openLoopback,
      paths: ['lan', 'internet', 'relay'],
      goals: { lan: { against: 'cipher', atLeast: 0.9 }, internet: { against: 'cipher', atLeast: 0.9 } },
      title: (bytes) =>
        `Loopback throughput of the CLI per path vs the same cipher over TCP and iperf3 (${mebibytes(bytes)})`,
      where: [
        'all processes in one network namespace holding only lo (127.0.0.1): the server (`buddylink server --json`, kernel-chosen ports), both CLIs, the cipher peers, iperf3',
      ],
    }),
};
