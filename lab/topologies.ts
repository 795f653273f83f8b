import type { HostSpec, RouterSpec, TopologySpec } from './topology.js';

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

export const TOPOLOGIES: readonly TopologySpec[] = [
  oneNat,
  twoNats,
  publicAndNat,
  poolNat,
  symmetricBoth,
  symmetricOne,
  carrierNat(false),
  carrierNat(true),
  udpBlocked,
  ipv6OneLan,
  ipv6TwoPrefixes,
];

export function findTopology(name: string): TopologySpec | undefined {
  return TOPOLOGIES.find((t) => t.name === name);
}

/** The same topology with `delayMs` of one-way delay on every internet link. */
export function withDelay(spec: TopologySpec, delayMs: number): TopologySpec {
  return { ...spec, name: `${spec.name}+${delayMs}ms`, delayMs };
}
