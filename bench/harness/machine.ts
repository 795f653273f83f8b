import { cpus, loadavg, release, totalmem } from 'node:os';

/** The machine a result was measured on, recorded beside the figures. */
export function describeMachine(): Record<string, string | number> {
  const cores = cpus();
  return {
    cpuModel: cores[0]?.model ?? 'unknown',
    logicalCpus: cores.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    // Shared machines are noisy: the load at the end of the run says how noisy.
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
