import { capacityBenchmark } from './capacity.js';
import type { Benchmark } from './harness/benchmark.js';
import { judgementBenchmark } from './judgement.js';
import { labConnectBenchmark } from './lab-connect.js';
import { labLanShapedBenchmark } from './lab-lan-shaped.js';
import { labReachBenchmark } from './lab-reach.js';
import { labSetupBytesBenchmark } from './lab-setup-bytes.js';
import { labThroughputBenchmark } from './lab-throughput.js';
import { loopbackThroughputBenchmark } from './loopback-throughput.js';
import { stunBenchmark } from './stun.js';
import { wormholeBenchmark } from './wormhole.js';

/** Every benchmark `npm run bench` knows, in the order it runs them. Add yours here. */
export const BENCHMARKS: readonly Benchmark[] = [
  stunBenchmark,
  judgementBenchmark,
  capacityBenchmark,
  labConnectBenchmark,
  labThroughputBenchmark,
  labSetupBytesBenchmark,
  loopbackThroughputBenchmark,
  labLanShapedBenchmark,
  wormholeBenchmark,
  labReachBenchmark,
];
