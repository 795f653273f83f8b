import { isIP } from 'node:net';

/**
 * Address arithmetic shared by the server's judgement (S23) and the client's variant (S206):
 * both must compare the same way, so it lives in one place.
 */

/** `::ffff:192.0.2.1` is the IPv4 client 192.0.2.1 seen through a dual-stack socket. */
export function normaliseIp(ip: string): string {
  const lower = ip.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped?.[1]) return mapped[1];
  return lower;
}

/** The IP as big-endian bytes (4 for IPv4, 16 for IPv6); throws on a non-IP string. */
export function ipBytes(ip: string): Uint8Array {
  const norm = normaliseIp(ip);
  const family = isIP(norm);
  if (family === 4) return Uint8Array.from(norm.split('.').map(Number));
  if (family === 6) return ipv6Bytes(norm);
  throw new TypeError(`not an IP address: ${ip}`);
}

function ipv6Bytes(ip: string): Uint8Array {
  let text = ip.split('%')[0] ?? ip;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail?.[1]) {
    const b = tail[1].split('.').map(Number);
    const hi = (((b[0] ?? 0) << 8) | (b[1] ?? 0)).toString(16);
    const lo = (((b[2] ?? 0) << 8) | (b[3] ?? 0)).toString(16);
    text = `${text.slice(0, -tail[1].length)}${hi}:${lo}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(zeros).fill('0'), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}

export interface PrefixLengths {
  /** IPv4 bits compared; below 32 treats a NAT's pool of consecutive addresses as one NAT (§0067). */
  v4: number;
  /** IPv6 bits compared; 64 means "the same LAN" (§4.5). */
  v6: number;
}

/** S23: true when both addresses are of one family and equal after masking to the family's prefix. */
export function samePrefix(a: string, b: string, prefix: PrefixLengths): boolean {
  return sameBytePrefix(ipBytes(a), ipBytes(b), prefix);
}

/** samePrefix on addresses already turned into bytes by ipBytes (a caller that keeps them parsed). */
export function sameBytePrefix(x: Uint8Array, y: Uint8Array, prefix: PrefixLengths): boolean {
  if (x.length !== y.length) return false;
  const bits = x.length === 4 ? prefix.v4 : prefix.v6;
  for (let i = 0; i < x.length; i++) {
    const left = Math.max(0, Math.min(8, bits - i * 8));
    if (left === 0) break;
    const mask = (0xff << (8 - left)) & 0xff;
    if (((x[i] ?? 0) & mask) !== ((y[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** `host:port`, with brackets for IPv6, as people and logs expect. */
export function formatEndpoint(e: { host: string; port: number }): string {
  return isIP(e.host) === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
