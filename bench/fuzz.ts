import { runFuzz } from './fuzz/campaign.js';
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js';

/**
 * Issue 14: the long fuzz run. The same campaign as test/server/fuzz.test.ts (which CI runs for 20 s),
 * for long enough to pass 1,000,000 inputs over the control WebSocket and the STUN port together.
 */
const SECONDS = { full: 120, smoke: 2 } as const;

export const fuzzBenchmark: Benchmark = {
  name: 'fuzz',
  description: 'generative fuzzing of the control protocol and the STUN port; the victim must be served',
  async run(context: BenchmarkContext): Promise<BenchmarkReport> {
    const seconds = context.smoke ? SECONDS.smoke : SECONDS.full;
    const seed = Date.now() % 2 ** 31;
    context.log(`fuzzing for ${seconds} s, seed ${seed}`);
    const r = await runFuzz({ seconds, seed, connections: 4, window: 64, stunBatch: 32 });
    const inputs = r.wsAnswered + r.stunProcessed;
    return {
      title: 'Fuzz: control WebSocket and STUN port (issue 14)',
      setup: [
        'one process: the server (loopback, in-memory store) and the fuzzer; 4 fuzzing WebSockets from 127.0.0.2 logged on as a buddy of the victim (64 frames in flight each), one STUN socket',
        'frames: well-formed requests of every type with fields dropped or replaced by junk (types, sizes, unicode, prototype keys, nesting), byte-mutated and truncated JSON, random text and binary; datagrams: Binding requests with random attributes, byte-mutated, truncated, random bytes',
        'per-connection request limits raised so the frames reach the handlers; per-source limits as default',
        'the victim (alice, with buddy bob) asks sameNat and STUN every 100 ms throughout',
      ],
      columns: [
        'seconds',
        'WebSocket frames answered',
        'STUN datagrams read',
        'inputs',
        'INTERNAL errors',
        'victim checks failed',
        'victim slowest (ms)',
      ],
      rows: [
        [
          r.seconds,
          r.wsAnswered,
          r.stunProcessed,
          inputs,
          r.internalErrors,
          `${r.victim.failures + r.victim.stunFailures} of ${r.victim.checks + r.victim.stunChecks}`,
          Math.round(r.victim.maxMs),
        ],
      ],
      notes: [
        `seed ${r.seed}; reply codes ${JSON.stringify(r.outcomes)}; close codes ${JSON.stringify(r.closes)}`,
        r.internalErrors === 0
          ? '0 crashes, 0 INTERNAL errors'
          : 'INTERNAL errors: a handler threw an untyped error',
      ],
      data: r,
    };
  },
};
