/**
 * Every tunable of the NAT lab in one place. Addresses come from the documentation ranges
 * (RFC 5737 for IPv4, RFC 3849 for IPv6) and private/shared ranges (RFC 1918, RFC 6598), so nothing
 * the lab builds can collide with, or route to, a real network.
 */
export const LAB_DEFAULTS = {
  /** Every namespace of every buddylink lab starts with this; `lab down` removes all of them. */
  namespacePrefix: 'buddylab-',
  /** Length of the random run id; it prefixes interface names, which Linux caps at 15 bytes. */
  runIdLength: 4,
  /** The lab "internet": the core namespace routes between these subnets over one bridge. */
  internet: {
    v4Subnets: ['203.0.113.1/24', '198.51.100.1/24'],
    v6Subnet: '2001:db8:ff::1/64',
  },
  /** One command (ip, nft, sysctl) may not hang a test. */
  commandTimeoutMs: 15_000,
  /** After SIGTERM, a process inside a lab host has this long before SIGKILL. */
  killGraceMs: 1_000,
  /** How long a new lab may take until every link passes traffic (linkwatch runs about once a second). */
  linkUpTimeoutMs: 5_000,
  linkPollMs: 50,
} as const;

/** The most bytes an interface name may have (IFNAMSIZ 16 including the NUL). */
export const MAX_IFNAME = 15;
