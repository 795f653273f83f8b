import { capacityBenchmark } from './capacity.js';
import type { Benchmark } from './harness/benchmark.js';
import { judgementBenchmark } from './judgement.js';
import { stunBenchmark } from './stun.js';

/** Every benchmark `npm run bench` knows, in the order it runs them. Add yours here. */
export const BENCHMARKS: readonly Benchmark[] = [stunBenchmark, judgementBenchmark, capacityBenchmark];
