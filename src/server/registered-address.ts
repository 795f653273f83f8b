import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { normaliseIp } from '../protocol/addresses.js';
import type { Endpoint } from '../protocol/fields.js';

/** The trusted reverse proxies (SPEC §4.6), as a matcher built once at start. */
export function trustedProxies(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [ip = '', bits] = cidr.split('/');
    const host = normaliseIp(ip);
    const type = isIP(host) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(host, type);
    else list.addSubnet(host, Number(bits), type);
  }
  return list;
}

function isTrusted(list: BlockList, ip: string): boolean {
  const host = normaliseIp(ip);
  const family = isIP(host);
  if (family === 0) return false;
  return list.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * S21–S22: the registered address is the source of the control connection as the server saw it.
 * Behind a reverse proxy the socket's peer is the proxy, so X-Forwarded-For is read, but only when the
 * peer is a trusted proxy: anyone else could write any address there and steer the judgement. The
 * header is read right to left, skipping trusted proxies, so that a client cannot prepend a fake entry.
 * A proxy rarely forwards the client's port; then the port of the proxy's connection stands in.
 */
export function registeredAddressOf(req: IncomingMessage, proxies: BlockList): Endpoint | undefined {
  const peerIp = req.socket.remoteAddress;
  const peerPort = req.socket.remotePort;
  if (peerIp === undefined || peerPort === undefined) return undefined;
  const peer: Endpoint = { host: normaliseIp(peerIp), port: peerPort };
  if (!isTrusted(proxies, peer.host)) return peer;
  const header = req.headers['x-forwarded-for'];
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text) return peer;
  const hops = text.split(',').map((s) => s.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseHop(hops[i] ?? '');
    if (!hop) return peer;
    if (i > 0 && isTrusted(proxies, hop.host)) continue;
    return { host: hop.host, port: hop.port ?? peer.port };
  }
  return peer;
}

/** `198.51.100.7`, `198.51.100.7:4711`, `2001:db8::1`, `[2001:db8::1]:4711`. */
function parseHop(text: string): { host: string; port?: number } | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed?.[1]) return withPort(bracketed[1], bracketed[2]);
  if (isIP(text) !== 0) return { host: normaliseIp(text) };
  const v4 = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text);
  if (v4?.[1]) return withPort(v4[1], v4[2]);
  return undefined;
}

function withPort(host: string, port: string | undefined): { host: string; port?: number } | undefined {
  if (isIP(host) === 0) return undefined;
  const n = port === undefined ? undefined : Number(port);
  if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= 65535)) return undefined;
  return n === undefined ? { host: normaliseIp(host) } : { host: normaliseIp(host), port: n };
}
