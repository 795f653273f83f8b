import type { HostSpec, RouterSpec, TopologySpec, UnsolicitedInput } from './topology.js';

/**
 * The catalogue of lab topologies, one per row of the NAT matrix (issue 5). Public addresses are
 * RFC 5737 / RFC 3849 documentation ranges; LANs use RFC 1918, the carrier's inside RFC 6598.
 * Every topology has a `server` host on the internet; clients are named alice and bob.
 */

const server: HostSpec = {
  name: 'server',
  on: 'internet',
  v4: '203.0.113.2',
  v6: '2001:db8:ff::2',
  role: 'server',
};

function home(name: string, wanV4: string, lanV4: string, extra: Partial<RouterSpec> = {}): RouterSpec {
  return {
    name,
    upstream: 'internet',
    wan: { v4: wanV4 },
    lan: { v4: lanV4 },
    nat: { kind: 'endpointIndependent' },
    ...extra,
  };
}

function client(name: string, on: string, v4: string, v6?: string): HostSpec {
  return v6 === undefined ? { name, on, v4, role: 'client' } : { name, on, v4, v6, role: 'client' };
}

const oneNat: TopologySpec = {
  name: 'one-nat',
  summary: 'alice and bob behind one home NAT (masquerade, no hairpin)',
  routers: [home('home', '203.0.113.10', '192.168.1.1/24')],
  hosts: [server, client('alice', 'home', '192.168.1.10'), client('bob', 'home', '192.168.1.11')],
};

const twoNats: TopologySpec = {
  name: 'two-nats',
  summary: 'alice and bob behind two different endpoint-independent NATs',
  routers: [home('homeA', '203.0.113.10', '192.168.1.1/24'), home('homeB', '203.0.113.11', '10.0.2.1/24')],
  hosts: [server, client('alice', 'homeA', '192.168.1.10'), client('bob', 'homeB', '10.0.2.10')],
};

const publicAndNat: TopologySpec = {
  name: 'public-and-nat',
  summary: 'alice behind a NAT, bob on a public address (no NAT)',
  routers: [home('homeA', '203.0.113.10', '192.168.1.1/24')],
  hosts: [server, client('alice', 'homeA', '192.168.1.10'), client('bob', 'internet', '198.51.100.20')],
};

const poolNat: TopologySpec = {
  name: 'pool-nat',
  summary: 'one NAT spreading its LAN over a pool (alice leaves by .20, bob by .21)',
  routers: [
    home('office', '203.0.113.20', '192.168.1.1/24', {
      nat: { kind: 'pool', addresses: ['203.0.113.20', '203.0.113.21'] },
    }),
  ],
  hosts: [server, client('alice', 'office', '192.168.1.10'), client('bob', 'office', '192.168.1.11')],
};

const symmetricBoth: TopologySpec = {
  name: 'symmetric-both',
  summary: 'alice and bob each behind a symmetric NAT (masquerade random)',
  routers: [
    home('homeA', '203.0.113.10', '192.168.1.1/24', { nat: { kind: 'symmetric' } }),
    home('homeB', '203.0.113.11', '10.0.2.1/24', { nat: { kind: 'symmetric' } }),
  ],
  hosts: [server, client('alice', 'homeA', '192.168.1.10'), client('bob', 'homeB', '10.0.2.10')],
};

const symmetricOne: TopologySpec = {
  name: 'symmetric-one',
  summary: 'alice behind a symmetric NAT, bob behind an endpoint-independent one',
  routers: [
    home('homeA', '203.0.113.10', '192.168.1.1/24', { nat: { kind: 'symmetric' } }),
    home('homeB', '203.0.113.11', '10.0.2.1/24'),
  ],
  hosts: [server, client('alice', 'homeA', '192.168.1.10'), client('bob', 'homeB', '10.0.2.10')],
};

/** The roles of birthday punching the other way round: the answerer (bob) is the hard side. */
const symmetricAnswerer: TopologySpec = {
  name: 'symmetric-answerer',
  summary: 'alice behind an endpoint-independent NAT, bob (the answerer) behind a symmetric one',
  routers: [
    home('homeA', '203.0.113.10', '192.168.1.1/24'),
    home('homeB', '203.0.113.11', '10.0.2.1/24', { nat: { kind: 'symmetric' } }),
  ],
  hosts: [server, client('alice', 'homeA', '192.168.1.10'), client('bob', 'homeB', '10.0.2.10')],
};

/** Port blocks per home: the carrier NAT keeps ports, so a block names the home behind it (RFC 7422). */
const HOME_A_PORTS = [20000, 29999] as const;
const HOME_B_PORTS = [30000, 39999] as const;

function carrierNat(hairpin: boolean): TopologySpec {
  const carrier: RouterSpec = {
    name: 'carrier',
    upstream: 'internet',
    wan: { v4: '203.0.113.30' },
    lan: { v4: '100.64.0.1/24' },
    nat: { kind: 'endpointIndependent' },
    ...(hairpin
      ? {
          hairpin: [
            { ports: HOME_A_PORTS, to: '100.64.0.2' },
            { ports: HOME_B_PORTS, to: '100.64.0.3' },
          ],
        }
      : {}),
  };
  const homeNat = (name: string, wan: string, ports: readonly [number, number]): RouterSpec => ({
    name,
    upstream: 'carrier',
    wan: { v4: wan },
    lan: { v4: '192.168.1.1/24' },
    nat: { kind: 'endpointIndependent', ports },
  });
  return {
    name: hairpin ? 'carrier-nat-hairpin' : 'carrier-nat',
    summary: `two homes with the same private range behind one carrier NAT (${hairpin ? 'hairpinning, RFC 6888' : 'no hairpin'}); a stranger in alice's home holds bob's local address`,
    routers: [
      carrier,
      homeNat('homeA', '100.64.0.2', HOME_A_PORTS),
      homeNat('homeB', '100.64.0.3', HOME_B_PORTS),
    ],
    hosts: [
      server,
      client('alice', 'homeA', '192.168.1.10'),
      client('bob', 'homeB', '192.168.1.11'),
      { name: 'stranger', on: 'homeA', v4: '192.168.1.11', role: 'stranger' },
    ],
  };
}

const udpBlocked: TopologySpec = {
  name: 'udp-blocked',
  summary: 'two NATs; the internet drops UDP between them (STUN to the server still works)',
  routers: [home('homeA', '203.0.113.10', '192.168.1.1/24'), home('homeB', '203.0.113.11', '10.0.2.1/24')],
  hosts: [server, client('alice', 'homeA', '192.168.1.10'), client('bob', 'homeB', '10.0.2.10')],
  udpBlockedBetween: [['homeA', 'homeB']],
};

const ipv6OneLan: TopologySpec = {
  name: 'ipv6-one-lan',
  summary: 'alice and bob in one IPv6 /64 behind one router (IPv4 NATed beside it)',
  routers: [
    home('home', '203.0.113.10', '192.168.1.1/24', {
      wan: { v4: '203.0.113.10', v6: '2001:db8:ff::10' },
      lan: { v4: '192.168.1.1/24', v6: '2001:db8:a::1/64' },
    }),
  ],
  hosts: [
    server,
    client('alice', 'home', '192.168.1.10', '2001:db8:a::10'),
    client('bob', 'home', '192.168.1.11', '2001:db8:a::11'),
  ],
};

const ipv6TwoPrefixes: TopologySpec = {
  name: 'ipv6-two-prefixes',
  summary: 'alice and bob in two routed IPv6 prefixes, each router a stateful firewall (RFC 6092)',
  routers: [
    home('homeA', '203.0.113.10', '192.168.1.1/24', {
      wan: { v4: '203.0.113.10', v6: '2001:db8:ff::10' },
      lan: { v4: '192.168.1.1/24', v6: '2001:db8:a::1/64' },
    }),
    home('homeB', '203.0.113.11', '10.0.2.1/24', {
      wan: { v4: '203.0.113.11', v6: '2001:db8:ff::11' },
      lan: { v4: '10.0.2.1/24', v6: '2001:db8:b::1/64' },
    }),
  ],
  hosts: [
    server,
    client('alice', 'homeA', '192.168.1.10', '2001:db8:a::10'),
    client('bob', 'homeB', '10.0.2.10', '2001:db8:b::10'),
  ],
};

/**
 * Two homes, both LANs 192.168.1.0/24, each home router behind its ISP's access router (a routed
 * hop, no translation), so the homes are four router hops apart as on the internet rather than
 * neighbours on one bridge: a packet with a low TTL can leave our own NAT and expire on the way,
 * before the buddy's NAT. `unsolicited` says what both home routers do with unsolicited input.
 */
function twoHomesBehindIsps(name: string, unsolicited: UnsolicitedInput, summary: string): TopologySpec {
  const isp = (n: string, wanV4: string, lanV4: string): RouterSpec => ({
    name: n,
    upstream: 'internet',
    wan: { v4: wanV4 },
    lan: { v4: lanV4 },
    nat: { kind: 'none' },
    unsolicited: 'accept',
  });
  const homeNat = (n: string, upstream: string, wanV4: string): RouterSpec => ({
    name: n,
    upstream,
    wan: { v4: wanV4 },
    lan: { v4: '192.168.1.1/24' },
    nat: { kind: 'endpointIndependent' },
    unsolicited,
  });
  return {
    name,
    summary,
    routers: [
      isp('ispA', '203.0.113.40', '192.0.2.1/26'),
      isp('ispB', '203.0.113.41', '192.0.2.65/26'),
      homeNat('homeA', 'ispA', '192.0.2.10'),
      homeNat('homeB', 'ispB', '192.0.2.74'),
    ],
    hosts: [server, client('alice', 'homeA', '192.168.1.10'), client('bob', 'homeB', '192.168.1.11')],
  };
}

const bareNats = twoHomesBehindIsps(
  'two-bare-nats',
  'accept',
  'two homes behind plain masquerade with no input filter (unsolicited packets reach the router)',
);

const rejectingNats = twoHomesBehindIsps(
  'two-rejecting-nats',
  'reject',
  'two homes whose routers reject unsolicited input with ICMP port unreachable',
);

const publicAndBareNat: TopologySpec = {
  name: 'public-and-bare-nat',
  summary: 'alice behind plain masquerade with no input filter, one hop from bob on a public address',
  routers: [home('homeA', '203.0.113.10', '192.168.1.1/24', { unsolicited: 'accept' })],
  hosts: [server, client('alice', 'homeA', '192.168.1.10'), client('bob', 'internet', '198.51.100.20')],
};

export const TOPOLOGIES: readonly TopologySpec[] = [
  oneNat,
  twoNats,
  publicAndNat,
  poolNat,
  symmetricBoth,
  symmetricOne,
  symmetricAnswerer,
  carrierNat(false),
  carrierNat(true),
  udpBlocked,
  ipv6OneLan,
  ipv6TwoPrefixes,
  bareNats,
  rejectingNats,
  publicAndBareNat,
];

export function findTopology(name: string): TopologySpec | undefined {
  return TOPOLOGIES.find((t) => t.name === name);
}

/** The same topology with `delayMs` of one-way delay on every internet link. */
export function withDelay(spec: TopologySpec, delayMs: number): TopologySpec {
  return { ...spec, name: `${spec.name}+${delayMs}ms`, delayMs };
}
