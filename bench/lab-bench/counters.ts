import type { Lab } from '../../lab/lab.js';
import { LAB_ADDRESSES, LAB_PORTS } from './options.js';

/**
 * Bytes a lab host sends, split three ways by nftables counters in the host's own output hook
 * (IP packet length: IP and UDP/TCP headers included, link layer excluded):
 *  - signalling: the control channel's TCP connection to the server (known by its local port), and
 *    TCP to the ICE pair's signalling server,
 *  - stun: UDP to the server's STUN port,
 *  - path: everything else (peer UDP: punches, UDX, ICE checks, DTLS, SCTP; a relay WebSocket).
 * The table lives in the host's namespace, so the lab's teardown removes it with the namespace.
 */

const TABLE = 'buddybench';
export const COUNTER_NAMES = ['signalling', 'stun', 'path'] as const;
export type HostBytes = Record<(typeof COUNTER_NAMES)[number], number>;

export async function installCounters(
  lab: Lab,
  host: string,
  controlPort: number | undefined,
): Promise<void> {
  const { server } = LAB_ADDRESSES;
  const ruleset = [
    `table inet ${TABLE} {`,
    ...COUNTER_NAMES.map((c) => `  counter ${c} { }`),
    '  chain out {',
    '    type filter hook output priority 0; policy accept;',
    ...(controlPort === undefined
      ? []
      : [
          `    ip daddr ${server} tcp dport ${LAB_PORTS.control} tcp sport ${controlPort} counter name "signalling" accept`,
        ]),
    `    ip daddr ${server} tcp dport ${LAB_PORTS.iceSignal} counter name "signalling" accept`,
    `    ip daddr ${server} udp dport ${LAB_PORTS.stun} counter name "stun" accept`,
    '    counter name "path" accept',
    '  }',
    '}',
  ].join('\n');
  await lab.exec(host, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
  await lab.exec(host, ['nft', '-f', '-'], { input: `${ruleset}\n` });
}

export async function resetCounters(lab: Lab, host: string): Promise<void> {
  await lab.exec(host, ['nft', 'reset', 'counters', 'table', 'inet', TABLE]);
}

export async function readCounters(lab: Lab, host: string): Promise<HostBytes> {
  const { stdout } = await lab.exec(host, ['nft', '-j', 'list', 'counters', 'table', 'inet', TABLE]);
  const parsed = JSON.parse(stdout) as { nftables: { counter?: { name: string; bytes: number } }[] };
  const out: HostBytes = { signalling: 0, stun: 0, path: 0 };
  for (const item of parsed.nftables) {
    const c = item.counter;
    if (c && (COUNTER_NAMES as readonly string[]).includes(c.name)) out[c.name as keyof HostBytes] = c.bytes;
  }
  return out;
}

/** The local port of the one established TCP connection from `host` to the server's control port. */
export async function controlPortOf(lab: Lab, host: string): Promise<number> {
  const { stdout } = await lab.exec(host, [
    'ss',
    '-Htn',
    'state',
    'established',
    'dst',
    `${LAB_ADDRESSES.server}:${LAB_PORTS.control}`,
  ]);
  const ports = stdout
    .split('\n')
    .map((line) => /:(\d+)\s+\S+:\d+\s*$/.exec(line.trim())?.[1])
    .filter((p): p is string => p !== undefined);
  if (ports.length !== 1)
    throw new Error(`${host}: expected one control connection, found: ${stdout.trim()}`);
  return Number(ports[0]);
}
