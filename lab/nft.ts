import type { HairpinRule, NatBehaviour, UnsolicitedInput } from './topology.js';

/**
 * nftables rulesets of the lab, as text for `nft -f -` inside one namespace. Tables live in the
 * namespace, so they disappear with it; the root namespace never gets one.
 */

export const NFT_TABLE = 'buddylab';

export interface RouterRules {
  wanIf: string;
  lanIf: string;
  wanV4: string;
  nat: NatBehaviour;
  /** LAN hosts in listing order: pooled NATs give each its own public address. */
  lanHostsV4: readonly string[];
  hairpin: readonly HairpinRule[];
  unsolicited: UnsolicitedInput;
  /** The router forwards IPv6 for its LAN: add the stateful inbound filter of RFC 6092. */
  v6Firewall: boolean;
}

function portRange([lo, hi]: readonly [number, number]): string {
  return `${lo}-${hi}`;
}

/** The source-NAT statements for traffic leaving by the WAN. */
function natStatements(r: RouterRules): string[] {
  const out = `oifname "${r.wanIf}"`;
  switch (r.nat.kind) {
    case 'none':
      return [];
    case 'endpointIndependent':
      // A port block applies to TCP and UDP; other protocols (ICMP) are masqueraded as usual.
      return r.nat.ports
        ? [`${out} meta l4proto { tcp, udp } masquerade to :${portRange(r.nat.ports)}`, `${out} masquerade`]
        : [`${out} masquerade`];
    case 'symmetric':
      // `random` skips Linux's reuse of an existing mapping for the same source (find_appropriate_src),
      // so each destination gets its own port: RFC 4787 "address and port-dependent mapping".
      return [`${out} masquerade random`];
    case 'pool': {
      const pool = r.nat.addresses;
      const perHost = r.lanHostsV4.map((h, i) => `${out} ip saddr ${h} snat to ${pool[i % pool.length]}`);
      return [...perHost, `${out} snat to ${pool[0]}-${pool[pool.length - 1]} persistent`];
    }
  }
}

function hairpinStatements(r: RouterRules): { pre: string[]; post: string[] } {
  if (r.hairpin.length === 0) return { pre: [], post: [] };
  const pre = r.hairpin.map(
    (h) =>
      `iifname "${r.lanIf}" ip daddr ${r.wanV4} meta l4proto { tcp, udp } th dport ${portRange(h.ports)} dnat to ${h.to}`,
  );
  // The hairpinned packet leaves by the LAN again; its source becomes the public address (port kept),
  // so the receiver sees the sender's global address, exactly as from the internet.
  const post = [`oifname "${r.lanIf}" ct status dnat snat to ${r.wanV4}`];
  return { pre, post };
}

/**
 * The input chain for unsolicited packets from the WAN. Dropping or rejecting both keep the packet's
 * unconfirmed conntrack entry out of the table (REJECT answers, then drops); accepting confirms it,
 * so a peer's early punch occupies the reply tuple and the NAT remaps our own outgoing flow to
 * another port: the plain-masquerade case hole punching must survive.
 */
function inputChain(r: RouterRules): string[] {
  if (r.unsolicited === 'accept') return [];
  const last =
    r.unsolicited === 'reject'
      ? `    iifname "${r.wanIf}" reject with icmp type port-unreachable`
      : `    iifname "${r.wanIf}" drop`;
  return [
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    `    iifname "${r.wanIf}" ct state established,related accept`,
    `    iifname "${r.wanIf}" meta l4proto icmp accept`,
    last,
    '  }',
  ];
}

export function routerRuleset(r: RouterRules): string {
  const hp = hairpinStatements(r);
  const lines = [
    `table ip ${NFT_TABLE} {`,
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    ...hp.pre.map((s) => `    ${s}`),
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...hp.post.map((s) => `    ${s}`),
    ...natStatements(r).map((s) => `    ${s}`),
    '  }',
    ...inputChain(r),
    '}',
  ];
  if (r.v6Firewall) {
    lines.push(
      `table ip6 ${NFT_TABLE} {`,
      '  chain forward {',
      '    type filter hook forward priority filter; policy accept;',
      // RFC 6092 simple security: inbound only for flows the inside opened (what hole punching opens).
      `    iifname "${r.wanIf}" ct state established,related accept`,
      `    iifname "${r.wanIf}" meta l4proto ipv6-icmp accept`,
      `    iifname "${r.wanIf}" drop`,
      '  }',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The internet core drops UDP between the public addresses of two sides, both ways. */
export function coreRuleset(blocked: readonly (readonly [readonly string[], readonly string[]])[]): string {
  const rules: string[] = [];
  for (const [a, b] of blocked) {
    const sa = `{ ${a.join(', ')} }`;
    const sb = `{ ${b.join(', ')} }`;
    rules.push(`ip saddr ${sa} ip daddr ${sb} meta l4proto udp drop`);
    rules.push(`ip saddr ${sb} ip daddr ${sa} meta l4proto udp drop`);
  }
  const chain = (family: string, hook: string) => [
    `table ${family} ${NFT_TABLE} {`,
    '  chain forward {',
    `    type filter hook ${hook} priority 0; policy accept;`,
    ...rules.map((s) => `    ${s}`),
    '  }',
    '}',
  ];
  // Bridged (same subnet) and routed (between subnets) traffic pass different hooks: filter both.
  return `${[...chain('bridge', 'forward'), ...chain('ip', 'forward')].join('\n')}\n`;
}
