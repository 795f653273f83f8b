/**
 * What every benchmark provides to `bench/run.ts`. To add one: write bench/<name>.ts exporting a
 * `Benchmark`, and list it in bench/registry.ts.
 */

export interface BenchmarkContext {
  /** Tiny sizes so that CI can prove the benchmark still runs (issue 6: "so they cannot rot"). */
  readonly smoke: boolean;
  /** Measured repetitions (≥ 5 for figures worth recording; smoke uses fewer). */
  readonly runs: number;
  /** Also record a CPU profile of our side (node --cpu-prof) under `resultsDir/profiles`. */
  readonly profile: boolean;
  /** File size for the transfer benchmarks (--size); each has its own default. */
  readonly fileBytes?: number;
  readonly resultsDir: string;
  log(line: string): void;
}

/** A printable table plus the raw figures that go into the JSON file. */
export interface BenchmarkReport {
  readonly title: string;
  /** What was held constant, how load was generated, how cores were assigned. */
  readonly setup: readonly string[];
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
  /** Conclusions printed under the table (ratios, goal met or missed). */
  readonly notes: readonly string[];
  readonly data: unknown;
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(context: BenchmarkContext): Promise<BenchmarkReport>;
}
