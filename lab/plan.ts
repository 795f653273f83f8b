import { isIP } from 'node:net';
import { samePrefix } from '../src/protocol/addresses.js';
import type { RunNames } from './names.js';
import { coreRuleset, routerRuleset } from './nft.js';
import { LAB_DEFAULTS } from './options.js';
import { INTERNET, type TopologySpec } from './topology.js';

/**
 * Resolves a topology into what each namespace needs: interfaces, addresses, routes, sysctls, rules.
 * Pure: no command runs here, so a topology error shows before anything is built.
 */

export class TopologyError extends Error {
  readonly code = 'LAB_TOPOLOGY_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'TopologyError';
  }
}

export interface Cidr {
  address: string;
  length: number;
}

export function parseCidr(text: string): Cidr {
  const [address = '', len = ''] = text.split('/');
  const length = Number(len);
  if (isIP(address) === 0 || !Number.isInteger(length)) throw new TopologyError(`not a CIDR: ${text}`);
  return { address, length };
}

/** One L2 segment: a bridge in its owner's namespace, with the owner's gateway addresses on it. */
interface Segment {
  ownerNs: string;
  bridge: string;
  v4: Cidr[];
  v6?: Cidr;
  nextPort: number;
}

export interface NodePlan {
  name: string;
  ns: string;
  kind: 'core' | 'router' | 'host';
  /** Lines for `ip -n NS -batch -`, applied after the links exist. */
  ipLines: string[];
  sysctls: string[];
  nft?: string;
  /** Interfaces that get the internet delay on their egress (netem). */
  delayed: string[];
}

/**
 * How delay is put on internet links: tc netem on each node's egress, or, where the kernel lacks
 * netem, a userspace wire (lab/delay-wire.py) in the core between each node's port and the bridge.
 */
export type DelayMode = 'netem' | 'wire';

export interface LinkPlan {
  a: { ns: string; ifname: string };
  b: { ns: string; ifname: string };
}

export interface LabPlan {
  nodes: NodePlan[];
  links: LinkPlan[];
  delayMs: number;
  delayMode: DelayMode;
  /** Wire mode: pairs [from node, towards bridge] in the core namespace. */
  wires: (readonly [string, string])[];
}

const HOST_SYSCTLS = [
  // Asymmetric paths are normal in the lab (routers on one bridge); strict reverse-path filtering
  // would drop them.
  'net.ipv4.conf.all.rp_filter=0',
  'net.ipv4.conf.default.rp_filter=0',
  'net.ipv4.conf.all.accept_redirects=0',
  'net.ipv4.conf.default.accept_redirects=0',
  // Addresses usable at once: no duplicate-address detection delay.
  'net.ipv6.conf.all.accept_dad=0',
  'net.ipv6.conf.default.accept_dad=0',
  'net.ipv6.conf.all.accept_ra=0',
  'net.ipv6.conf.default.accept_ra=0',
];

const FORWARDER_SYSCTLS = [
  'net.ipv4.ip_forward=1',
  'net.ipv6.conf.all.forwarding=1',
  'net.ipv4.conf.all.send_redirects=0',
  'net.ipv4.conf.default.send_redirects=0',
];

/** Bridged frames must not pass the IP hooks (br_netfilter), or NAT would see LAN-internal traffic. */
export const OPTIONAL_SYSCTLS = [
  'net.bridge.bridge-nf-call-iptables=0',
  'net.bridge.bridge-nf-call-ip6tables=0',
];

function subnetOf(segment: Segment, address: string, what: string): Cidr {
  const family = isIP(address);
  if (family === 6) {
    const v6 = segment.v6;
    if (v6 && samePrefix(address, v6.address, { v4: 32, v6: v6.length })) return v6;
    throw new TopologyError(`${what}: ${address} is not in the segment's IPv6 prefix`);
  }
  const v4 = segment.v4.find((c) => samePrefix(address, c.address, { v4: c.length, v6: 128 }));
  if (!v4) throw new TopologyError(`${what}: ${address} is not in any IPv4 subnet of its segment`);
  return v4;
}

export function planLab(spec: TopologySpec, names: RunNames, delayMode: DelayMode = 'netem'): LabPlan {
  const nodes = new Map<string, NodePlan>();
  const segments = new Map<string, Segment>();
  const links: LinkPlan[] = [];
  const wires: (readonly [string, string])[] = [];
  const delayMs = spec.delayMs ?? 0;

  const add = (name: string, kind: NodePlan['kind']): NodePlan => {
    if (nodes.has(name)) throw new TopologyError(`duplicate node name: ${name}`);
    if (!/^[A-Za-z][A-Za-z0-9]{0,15}$/.test(name)) throw new TopologyError(`bad node name: ${name}`);
    const sysctls = kind === 'host' ? [...HOST_SYSCTLS] : [...HOST_SYSCTLS, ...FORWARDER_SYSCTLS];
    const plan: NodePlan = {
      name,
      ns: names.namespace(name),
      kind,
      ipLines: ['link set lo up'],
      sysctls,
      delayed: [],
    };
    nodes.set(name, plan);
    return plan;
  };

  const core = add(INTERNET, 'core');
  const coreBridge = names.iface('br');
  const coreV4 = LAB_DEFAULTS.internet.v4Subnets.map(parseCidr);
  const coreV6 = parseCidr(LAB_DEFAULTS.internet.v6Subnet);
  core.ipLines.push(`link add ${coreBridge} type bridge`, `link set ${coreBridge} up`);
  for (const c of coreV4) core.ipLines.push(`addr add ${c.address}/${c.length} dev ${coreBridge}`);
  core.ipLines.push(`addr add ${coreV6.address}/${coreV6.length} dev ${coreBridge} nodad`);
  segments.set(INTERNET, { ownerNs: core.ns, bridge: coreBridge, v4: coreV4, v6: coreV6, nextPort: 0 });

  for (const r of spec.routers) {
    const node = add(r.name, 'router');
    const lanIf = names.iface('lan');
    const lanV4 = parseCidr(r.lan.v4);
    const lanV6 = r.lan.v6 === undefined ? undefined : parseCidr(r.lan.v6);
    node.ipLines.push(`link add ${lanIf} type bridge`, `link set ${lanIf} up`);
    node.ipLines.push(`addr add ${lanV4.address}/${lanV4.length} dev ${lanIf}`);
    if (lanV6) node.ipLines.push(`addr add ${lanV6.address}/${lanV6.length} dev ${lanIf} nodad`);
    segments.set(r.name, {
      ownerNs: node.ns,
      bridge: lanIf,
      v4: [lanV4],
      ...(lanV6 ? { v6: lanV6 } : {}),
      nextPort: 0,
    });
  }

  /** A veth from `node` into `segmentName`, with addresses and default routes on the node side. */
  const attach = (node: NodePlan, ifname: string, segmentName: string, v4s: string[], v6?: string): void => {
    const segment = segments.get(segmentName);
    if (!segment) throw new TopologyError(`${node.name}: unknown segment ${segmentName}`);
    const owner = [...nodes.values()].find((n) => n.ns === segment.ownerNs);
    if (!owner) throw new TopologyError(`${node.name}: segment ${segmentName} has no owner`);
    const n = segment.nextPort++;
    const port = names.iface(`p${n}`);
    links.push({ a: { ns: node.ns, ifname }, b: { ns: segment.ownerNs, ifname: port } });
    if (segmentName === INTERNET && delayMs > 0 && delayMode === 'wire') {
      // node ⇄ port ⇄ (delay-wire.py) ⇄ wire ⇄ towards (bridge port). No IPv6 link-local noise on the
      // wire's own ends, and no frame above the MTU (a packet socket cannot send a GSO frame).
      const wire = names.iface(`d${n}`);
      const towards = names.iface(`q${n}`);
      links.push({ a: { ns: segment.ownerNs, ifname: wire }, b: { ns: segment.ownerNs, ifname: towards } });
      for (const i of [port, wire, towards])
        owner.ipLines.push(`link set ${i} addrgenmode none`, `link set ${i} up`);
      owner.ipLines.push(`link set ${towards} master ${segment.bridge}`);
      node.ipLines.push(`link set ${ifname} gso_max_segs 1`);
      wires.push([port, wire]);
    } else {
      owner.ipLines.push(`link set ${port} master ${segment.bridge}`, `link set ${port} up`);
      if (segmentName === INTERNET && delayMs > 0) node.delayed.push(ifname);
    }
    node.ipLines.push(`link set ${ifname} up`);
    const [primary, ...extra] = v4s;
    if (primary === undefined) throw new TopologyError(`${node.name}: no IPv4 address`);
    const subnet = subnetOf(segment, primary, node.name);
    node.ipLines.push(`addr add ${primary}/${subnet.length} dev ${ifname}`);
    for (const a of extra)
      node.ipLines.push(`addr add ${a}/${subnetOf(segment, a, node.name).length} dev ${ifname}`);
    node.ipLines.push(`route add default via ${subnet.address} dev ${ifname}`);
    if (v6 !== undefined) {
      const s6 = subnetOf(segment, v6, node.name);
      node.ipLines.push(`addr add ${v6}/${s6.length} dev ${ifname} nodad`);
      node.ipLines.push(`route add default via ${s6.address} dev ${ifname}`);
    }
  };

  const publicV4: Record<string, string[]> = {};
  for (const r of spec.routers) {
    const node = nodes.get(r.name)!;
    if (!segments.has(r.upstream)) throw new TopologyError(`${r.name}: unknown upstream ${r.upstream}`);
    const wanIf = names.iface('wan');
    const pool = r.nat.kind === 'pool' ? r.nat.addresses.filter((a) => a !== r.wan.v4) : [];
    attach(node, wanIf, r.upstream, [r.wan.v4, ...pool], r.wan.v6);
    publicV4[r.name] = [r.wan.v4, ...pool];
    const lanHosts = spec.hosts.filter((h) => h.on === r.name && h.role === 'client').map((h) => h.v4);
    node.nft = routerRuleset({
      wanIf,
      lanIf: names.iface('lan'),
      wanV4: r.wan.v4,
      nat: r.nat,
      lanHostsV4: lanHosts,
      hairpin: r.hairpin ?? [],
      unsolicited: r.unsolicited ?? 'drop',
      v6Firewall: r.lan.v6 !== undefined,
    });
    if (r.nat.kind === 'none' && r.upstream === INTERNET) {
      // A routing router (an ISP's access router) hands the core a public subnet of its own.
      core.ipLines.push(`route add ${networkOfV4(parseCidr(r.lan.v4))} via ${r.wan.v4}`);
    }
    if (r.lan.v6 !== undefined) {
      if (r.wan.v6 === undefined || r.upstream !== INTERNET) {
        throw new TopologyError(`${r.name}: an IPv6 LAN needs a WAN IPv6 address on the internet`);
      }
      const lan6 = parseCidr(r.lan.v6);
      core.ipLines.push(`route add ${networkOf(lan6)} via ${r.wan.v6}`);
    }
  }

  for (const h of spec.hosts) {
    const node = add(h.name, 'host');
    attach(node, names.iface('eth0'), h.on, [h.v4], h.v6);
    if (h.on === INTERNET) publicV4[h.name] = [h.v4];
  }

  const blocked = (spec.udpBlockedBetween ?? []).map(([a, b]) => {
    const pa = publicV4[a];
    const pb = publicV4[b];
    if (!pa || !pb) throw new TopologyError(`udpBlockedBetween: ${a} or ${b} has no public address`);
    return [pa, pb] as const;
  });
  if (blocked.length > 0) core.nft = coreRuleset(blocked);

  return { nodes: [...nodes.values()], links, delayMs, delayMode, wires };
}

/** The network of an IPv4 subnet written as the router's own address ('192.0.2.1/26'). */
function networkOfV4(c: Cidr): string {
  const bits = c.address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const mask = c.length === 0 ? 0 : 2 ** 32 - 2 ** (32 - c.length);
  const net = Number((BigInt(bits) & BigInt(mask)).toString());
  return `${[24, 16, 8, 0].map((shift) => (net >>> shift) & 255).join('.')}/${c.length}`;
}

/** The network address of an IPv6 prefix written as the router's own address ('2001:db8:a::1/64'). */
function networkOf(c: Cidr): string {
  if (c.length % 16 !== 0)
    throw new TopologyError(`IPv6 LAN prefixes must be multiples of 16 bits: ${c.length}`);
  const groups = expandV6(c.address).slice(0, c.length / 16);
  return `${groups.map((g) => g.toString(16)).join(':')}::/${c.length}`;
}

function expandV6(ip: string): number[] {
  const [head = '', tail] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(zeros).fill('0'), ...right].map((g) => Number.parseInt(g, 16));
}
