import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP text <-> bytes for (XOR-)MAPPED-ADDRESS. Kept inside the STUN layer so that it stands alone
 * (like pion/stun): nothing here knows about accounts or buddies.
 */

export type IpFamily = 4 | 6;

/** `::ffff:192.0.2.1` is an IPv4 peer seen through a dual-stack socket; STUN answers it as IPv4. */
export function unmapIpv4(ip: string): string {
  if (ip.length > 7 && (ip.startsWith('::ffff:') || ip.startsWith('::FFFF:'))) {
    const tail = ip.slice(7);
    if (isIPv4(tail)) return tail;
  }
  return ip;
}

/**
 * Writes the address bytes of `ip` at `offset` of `out` and returns the family, or 0 when `ip` is
 * not an IP literal. IPv4-mapped IPv6 is written as IPv4. No allocation for IPv4.
 */
export function writeIpBytes(ip: string, out: Uint8Array, offset: number): IpFamily | 0 {
  const plain = unmapIpv4(ip);
  if (isIPv4(plain)) {
    let part = 0;
    let value = 0;
    for (let i = 0; i < plain.length; i++) {
      const c = plain.charCodeAt(i);
      if (c === 46) {
        out[offset + part++] = value;
        value = 0;
      } else {
        value = value * 10 + (c - 48);
      }
    }
    out[offset + part] = value;
    return 4;
  }
  if (isIPv6(plain)) {
    const bytes = ipv6Bytes(plain);
    out.set(bytes, offset);
    return 6;
  }
  return 0;
}

/** The 16 bytes of an IPv6 literal (zone id dropped: it has no meaning on the wire). */
function ipv6Bytes(ip: string): Uint8Array {
  let text = ip.split('%')[0] ?? ip;
  const out = new Uint8Array(16);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v4 = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${(((v4[0] ?? 0) << 8) | (v4[1] ?? 0)).toString(16)}:${(((v4[2] ?? 0) << 8) | (v4[3] ?? 0)).toString(16)}`;
  }
  const halves = text.split('::');
  const left = halves[0] ? halves[0].split(':') : [];
  const right = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const groups = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  for (let i = 0; i < 8; i++) {
    const g = Number.parseInt(groups[i] ?? '0', 16);
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  }
  return out;
}

/** Text form of 4 or 16 address bytes; IPv6 in RFC 5952 canonical form. */
export function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // RFC 5952 §4.2: compress the longest run (≥ 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}
