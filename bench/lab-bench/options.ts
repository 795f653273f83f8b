/**
 * Every constant of the lab benchmarks (issue 6, rows 4–6) in one place: the lab's addresses they
 * rely on, the ports of the helpers, sizes per mode, time bounds.
 */

/** Lab addresses from lab/topologies.ts (the benchmarks only read them). */
export const LAB_ADDRESSES = {
  server: '203.0.113.2',
  /** bob's LAN address in one-nat; bob's address behind homeB in two-nats and udp-blocked. */
  bobOnLan: '192.168.1.11',
  bobBehindHomeB: '10.0.2.10',
  homeBWan: '203.0.113.11',
} as const;

export const LAB_PORTS = {
  control: 7070,
  stun: 3478,
  http: 7071,
  iperf: 5201,
  /** The TCP forwarder in the server host that carries iperf3 through the relay's hops. */
  forwarder: 5301,
  /** The ICE pair's WebSocket signalling server (signal-relay.ts) in the server host. */
  iceSignal: 7080,
} as const;

/**
 * How the ICE pair exchanges descriptions and candidates: `pipe` through this process's pipes (free
 * and instant: ICE's lower bound), `server` through a WebSocket server in the lab's server host (the
 * same hops and delays as our signalling through the buddylink server).
 */
export const ICE_SIGNALLING = ['pipe', 'server'] as const;
export type IceSignalling = (typeof ICE_SIGNALLING)[number];

/** One-way delay on every internet link (issue 6, row 4: "20 ms one-way delay on internet links"). */
export const INTERNET_DELAY_MS = 20;

/**
 * lab-connect's series: each path cold (STUN on every connect, as ICE gathers afresh) at 0 and 20 ms
 * (issue 9), and the internet path once more with the client's default global-address cache (20 s,
 * warmed by the run before), which is what a logged-on buddy usually has.
 */
export interface ConnectVariant {
  delayMs: number;
  /** Global-address cache lifetime of both agents (0: cold). */
  globalAddressTtlMs: number;
  paths: readonly BenchPath[];
}
const ALL_PATHS = ['lan', 'internet', 'relay'] as const;
export const CONNECT_VARIANTS: { full: readonly ConnectVariant[]; smoke: readonly ConnectVariant[] } = {
  full: [
    { delayMs: 0, globalAddressTtlMs: 0, paths: ALL_PATHS },
    { delayMs: INTERNET_DELAY_MS, globalAddressTtlMs: 0, paths: ALL_PATHS },
    { delayMs: INTERNET_DELAY_MS, globalAddressTtlMs: 20_000, paths: ['internet'] },
  ],
  smoke: [{ delayMs: INTERNET_DELAY_MS, globalAddressTtlMs: 0, paths: ['lan'] }],
};

/** The path each topology exercises, and which we force (relay only: auto would first wait 5 s for UDP). */
export const PATH_TOPOLOGIES = [
  { path: 'lan', topology: 'one-nat', force: false },
  { path: 'internet', topology: 'two-nats', force: false },
  { path: 'relay', topology: 'udp-blocked', force: true },
] as const;

export type BenchPath = (typeof PATH_TOPOLOGIES)[number]['path'];

/**
 * Server flags for the benchmarks: the relay's per-session byte and rate caps are operator policy
 * (defaults 256 MiB and 8 MiB/s); a throughput benchmark measures what the relay can carry, so they
 * are raised and this is stated in every report.
 */
export const BENCH_SERVER_FLAGS = [
  '--relay-max-bytes',
  String(64 * 1024 ** 3),
  '--relay-bytes-per-second',
  String(16 * 1024 ** 3),
  '--relay-sessions-per-user',
  '1000',
  '--messages-per-second',
  '1000',
  '--message-burst',
  '2000',
] as const;

export const PASSWORD = 'lab-bench-password-not-secret';

export const LIMITS = {
  /** One connect (ours or ICE) may not take longer than this. */
  connectTimeoutMs: 15_000,
  /** Starting an agent (Node start, logon) or the server. */
  startTimeoutMs: 20_000,
  /** One bulk transfer or one iperf3 run. */
  transferTimeoutMs: 120_000,
  /** After a connection is up, trailing setup packets (pending punches, ICE checks) still count. */
  bytesSettleMs: 500,
  /** Pause between runs so one run's close does not overlap the next one's setup. */
  betweenRunsMs: 300,
} as const;

export const SIZES = {
  /** iperf3 runs for a fixed time (-t), so a slow path cannot stretch a run; ours moves a fixed amount. */
  full: { warmups: 1, transferBytes: 64 * 1024 ** 2, iperfAmount: ['-t', '3'], throughputDelays: [0, 20] },
  smoke: { warmups: 1, transferBytes: 1024 ** 2, iperfAmount: ['-n', '4M'], throughputDelays: [0] },
} as const;
