import { type BlockList, isIP } from 'node:net';
import { ipBytes, normaliseIp } from '../../protocol/addresses.js';

/**
 * The unit a per-source limit counts: an IPv4 address, or an IPv6 /64 (one customer's LAN: an attacker
 * with a /64 holds 2^64 addresses, so counting single IPv6 addresses would limit nothing).
 */
export function sourceKey(ip: string): string {
  const host = normaliseIp(ip);
  if (isIP(host) !== 6) return host;
  return `${Buffer.from(ipBytes(host).subarray(0, 8)).toString('hex')}/64`;
}

/** True when `ip` is in `list` (exempt sources, trusted proxies); false for anything not an IP. */
export function listed(list: BlockList, ip: string): boolean {
  const host = normaliseIp(ip);
  const family = isIP(host);
  if (family === 0) return false;
  return list.check(host, family === 6 ? 'ipv6' : 'ipv4');
}
