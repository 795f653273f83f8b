import { BlockList, isIP } from 'node:net';
import type { Endpoint } from '../protocol/index.js';

/**
 * Guard rail of hole punching: a probe goes only to one unicast host. Multicast, broadcast, the
 * unspecified address and the reserved 240/4 are never probed, whether the buddy offered them or a
 * packet claimed to come from them, so a session cannot be turned into a flood of a whole segment.
 * Loopback stays allowed: a loopback-only host offers 127.0.0.1 for its LAN path (addresses.ts).
 */
const NEVER = new BlockList();
NEVER.addSubnet('0.0.0.0', 8, 'ipv4'); // "this network", including the unspecified 0.0.0.0
NEVER.addSubnet('224.0.0.0', 4, 'ipv4'); // multicast
NEVER.addSubnet('240.0.0.0', 4, 'ipv4'); // reserved, including the limited broadcast 255.255.255.255
NEVER.addAddress('::', 'ipv6'); // unspecified
NEVER.addSubnet('ff00::', 8, 'ipv6'); // multicast
NEVER.addSubnet('::ffff:0.0.0.0', 104, 'ipv6'); // the same ranges written IPv4-mapped
NEVER.addSubnet('::ffff:224.0.0.0', 100, 'ipv6');
NEVER.addSubnet('::ffff:240.0.0.0', 100, 'ipv6');

export function isProbeTarget(e: Endpoint): boolean {
  const family = isIP(e.host);
  if (family === 0 || !Number.isInteger(e.port) || e.port < 1 || e.port > 65535) return false;
  return !NEVER.check(e.host, family === 4 ? 'ipv4' : 'ipv6');
}
