/**
 * The declarative description of a lab: who sits where, and how each router translates.
 * A topology is plain data; build.ts turns it into namespaces, veths, bridges and nftables rules.
 */

/** How a router maps its LAN onto its WAN address (RFC 4787 terms). */
export type NatBehaviour =
  /** Routes without translation (an IPv6 router, or a public network). */
  | { kind: 'none' }
  /**
   * nftables `masquerade`: Linux keeps the source port when it can and reuses a source's existing
   * mapping for new destinations, so the mapping is endpoint-independent (RFC 4787 §4.1), the
   * behaviour hole punching relies on. `ports` confines mappings to a block (a CGN subscriber's
   * port block, RFC 6888 REQ-4 / RFC 7422).
   */
  | { kind: 'endpointIndependent'; ports?: readonly [number, number] }
  /**
   * `masquerade random`: every new flow gets a fresh random port, so the mapping depends on the
   * destination ("symmetric" NAT); a port learned by STUN is useless to a peer.
   */
  | { kind: 'symmetric' }
  /**
   * Paired address pooling (RFC 4787 REQ-2): each LAN host always leaves by one address of the pool,
   * different hosts by different addresses (assigned round-robin in the order hosts are listed).
   */
  | { kind: 'pool'; addresses: readonly string[] };

/**
 * Hairpinning on a NAT (RFC 4787 §6, RFC 6888 REQ-9 for carrier NATs): a packet from inside to the
 * NAT's own public address and a port of `ports` is sent back inside to `to`, its source rewritten to
 * the public address, so the inside peer sees its partner's global address as the internet would.
 */
export interface HairpinRule {
  ports: readonly [number, number];
  to: string;
}

/**
 * What a router does with an unsolicited packet from its WAN (one no conntrack entry expects):
 * - `drop`: silently, as most home routers do (the default);
 * - `reject`: answers ICMP port unreachable (a router with a REJECT rule);
 * - `accept`: no input filter at all, plain masquerade: the packet reaches the router's own stack,
 *   whose conntrack entry then holds the reply tuple (what breaks naive simultaneous punching).
 */
export type UnsolicitedInput = 'drop' | 'reject' | 'accept';

export interface RouterSpec {
  name: string;
  /** 'internet', or the name of the router on whose LAN this router's WAN side sits (nested NAT). */
  upstream: string;
  /** Addresses on the upstream segment (no prefix length: the segment gives it). */
  wan: { v4: string; v6?: string };
  /** The router's own LAN addresses, with prefix length: '192.168.1.1/24', '2001:db8:a::1/64'. */
  lan: { v4: string; v6?: string };
  nat: NatBehaviour;
  hairpin?: readonly HairpinRule[];
  /** Unsolicited input on the WAN; `drop` when absent. */
  unsolicited?: UnsolicitedInput;
}

export interface HostSpec {
  name: string;
  /** 'internet' for a public host, else the name of the router whose LAN it joins. */
  on: string;
  v4: string;
  v6?: string;
  /** What the host is for, printed by `lab up` ('server', 'client', 'stranger'). */
  role: 'server' | 'client' | 'stranger';
}

export interface TopologySpec {
  name: string;
  /** One line for `lab list`. */
  summary: string;
  routers: readonly RouterSpec[];
  hosts: readonly HostSpec[];
  /** UDP between these nodes' public addresses is dropped in the internet core (a hostile firewall). */
  udpBlockedBetween?: readonly (readonly [string, string])[];
  /** One-way delay added on every link to the internet, in milliseconds (tc netem, both directions). */
  delayMs?: number;
}

/** The segment a node attaches to: 'internet' or a router's LAN. */
export const INTERNET = 'internet';
