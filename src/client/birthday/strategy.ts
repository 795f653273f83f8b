import type { NatClass } from '../nat-class.js';

/**
 * The pair's punch strategy, picked from both NAT classes before the first punch (issue 10):
 *  - both map each destination to a new port ("hard"): no two probes can ever meet → the relay at once;
 *  - we are hard, the buddy endpoint-independent: open many sockets towards its one global address
 *    (birthday punching, side-sockets.ts), beside the plain punching of our main socket;
 *  - the buddy hard, we endpoint-independent: probe random ports of its public IP (port-probe.ts);
 *  - otherwise (or a class unknown: an older buddy, a server without a second STUN port): plain punching.
 */
export type PairStrategy = 'punch' | 'relay' | 'open-sockets' | 'probe-ports';

const isHard = (c: NatClass | undefined) => c?.mapping === 'address-and-port-dependent';
const isEasy = (c: NatClass | undefined) => c?.mapping === 'endpoint-independent';

export function pairStrategy(ours: NatClass | undefined, theirs: NatClass | undefined): PairStrategy {
  if (isHard(ours) && isHard(theirs)) return 'relay';
  if (isHard(ours) && isEasy(theirs)) return 'open-sockets';
  if (isEasy(ours) && isHard(theirs)) return 'probe-ports';
  return 'punch';
}

/** Why a try goes to the relay at once: what its attempt reports. */
export const BOTH_HARD_REASON =
  'both NATs map each destination to a new port (address-and-port-dependent): no punch can meet, relay at once';
