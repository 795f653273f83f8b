import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { type Endpoint, formatEndpoint, normaliseIp } from '../protocol/index.js';
import type { PeerSocket } from './peer-socket.js';

/** IPv6 addresses that mean nothing beyond the link or the site: never offered as global. */
function isGlobalIpv6(ip: string): boolean {
  const first = Number.parseInt(ip.split(':')[0] ?? '0', 16);
  const linkLocal = (first & 0xffc0) === 0xfe80;
  const uniqueLocal = (first & 0xfe00) === 0xfc00;
  return ip !== '::1' && ip !== '::' && !linkLocal && !uniqueLocal && (first & 0xe000) === 0x2000;
}

function unique(endpoints: Endpoint[]): Endpoint[] {
  const seen = new Map<string, Endpoint>();
  for (const e of endpoints) seen.set(formatEndpoint(e), e);
  return [...seen.values()];
}

/**
 * S51/S73: the local addresses offered to a same-NAT buddy: every non-internal IPv4 interface and
 * every global IPv6 one (same /64 counts as the same LAN, §4.5), each with the peer socket's port.
 * With no such interface (a loopback-only test host), loopback is offered so the LAN path can work.
 */
export function localAddresses(
  socket: PeerSocket,
  override?: Endpoint[],
  interfaceNames?: string[],
): Endpoint[] {
  const port = socket.port;
  // Port 0 stands for the peer socket's own port, known only once it is bound: no port picked beforehand.
  if (override && override.length > 0)
    return unique(override.map((e) => (e.port === 0 ? { ...e, port } : e)));
  if (interfaceNames && interfaceNames.length > 0) return byInterface(socket, interfaceNames);
  const found: Endpoint[] = [];
  for (const i of socket.interfaces()) {
    if (i.internal) continue;
    const host = normaliseIp(i.host.split('%')[0] ?? i.host);
    const family = isIP(host);
    if (family === 4 || (family === 6 && isGlobalIpv6(host))) found.push({ host, port });
  }
  const reachable = found.filter((e) => socket.canReach(e));
  return reachable.length > 0 ? unique(reachable) : [{ host: '127.0.0.1', port }];
}

/** Every address of the named interfaces (loopback too, when named), with the peer socket's port. */
function byInterface(socket: PeerSocket, names: string[]): Endpoint[] {
  const found: Endpoint[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (!names.includes(name)) continue;
    for (const i of list ?? []) {
      const host = normaliseIp(i.address.split('%')[0] ?? i.address);
      if (i.family === 'IPv6' && host.startsWith('fe80')) continue; // needs a scope id no peer can use
      const endpoint = { host, port: socket.port };
      if (socket.canReach(endpoint)) found.push(endpoint);
    }
  }
  return unique(found);
}

/** Global IPv6 interface addresses: with no NAT in IPv6 these are global addresses as they are. */
export function globalIpv6Addresses(socket: PeerSocket): Endpoint[] {
  if (socket.address.family !== 6) return [];
  const port = socket.port;
  return socket
    .interfaces()
    .filter((i) => !i.internal && isIP(i.host.split('%')[0] ?? '') === 6 && isGlobalIpv6(i.host))
    .map((i) => ({ host: i.host, port }));
}

/** `host:port`, `[v6]:port` or `udp://host:port` → host and port; the host may still be a name. */
export function parseHostPort(text: string, defaultPort: number): { host: string; port: number } {
  const bare = text.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(bare);
  if (bracketed?.[1]) return { host: bracketed[1], port: Number(bracketed[2] ?? defaultPort) };
  const parts = bare.split(':');
  if (parts.length === 2 && parts[0]) return { host: parts[0], port: Number(parts[1]) };
  return { host: bare, port: defaultPort };
}
