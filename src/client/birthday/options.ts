/** Bounds of one birthday punch (issue 10's guard rails): every count, rate and time is an option. */
export interface BirthdayOptions {
  /** Side sockets the hard side opens towards the easy side's global address. */
  sockets: number;
  /** Between the side sockets' rounds of probes (a lost first probe is sent again). */
  socketIntervalMs: number;
  /**
   * IP TTL of the side sockets' first round (0: full TTL). Like the answerer's opening probes
   * (punch.ts) and hyperdht's birthday sockets: the probe opens our own NAT's mapping and dies before
   * the easy side's NAT, which, if it filters nothing (plain masquerade), would otherwise keep a
   * conntrack entry for that port and move its own client's mapping when it probes the port back.
   * Later rounds go at full TTL, for a NAT of ours farther out than this reaches.
   */
  socketOpeningTtl: number;
  /** Most punch datagrams all side sockets together send (probes, acks and replies). */
  socketMaxPackets: number;
  /** Random-port probes the easy side sends per second. */
  probesPerSecond: number;
  /** Most random-port probes of one try. */
  maxProbes: number;
  /** Neither side sends birthday packets this long after its try began. */
  maxMs: number;
}

/**
 * 256 sockets and up to 2048 probes over the 64,512 ports a Linux NAT picks from (1024–65535):
 * each probe hits an open port with p = 256/64512, so 760 probes meet with 95 %, 1190 with 99 %,
 * 2048 with 99.97 % (Tailscale's "How NAT traversal works" makes the same count). At 1000 per
 * second that is under the relay's 2 s head start; hyperdht probes more slowly (one per 20 ms) as it
 * has no relay racing it.
 */
export const DEFAULT_BIRTHDAY_OPTIONS: BirthdayOptions = {
  sockets: 256,
  socketIntervalMs: 1000,
  socketOpeningTtl: 3,
  socketMaxPackets: 256 * 3 + 64,
  probesPerSecond: 1000,
  maxProbes: 2048,
  maxMs: 4000,
};

/** The ports a NAT maps to (Linux: 1024–65535 for a source port of 1024 or more). */
export const NAT_PORT_MIN = 1024;
export const NAT_PORT_MAX = 65535;
