import type { Lab } from '../../lab/lab.js';

/**
 * A rate limit on both directions of each client's LAN link (this kernel has tbf but no netem):
 * tbf as the root qdisc of the client's own end (its uploads) and of the router's end of the same
 * veth (its downloads). burst holds a few GSO packets, so the rate is kept without starving TSO.
 */

const BURST = '256kb';
const LATENCY = '10ms';

export interface ShapedLink {
  ns: string;
  ifname: string;
}

export async function shapeClientLinks(
  lab: Lab,
  hosts: readonly string[],
  rate: string,
): Promise<ShapedLink[]> {
  const shaped: ShapedLink[] = [];
  for (const host of hosts) {
    const ns = lab.namespaceOf(host);
    const link = lab.plan.links.find((l) => l.a.ns === ns && l.a.ifname === lab.iface('eth0'));
    if (!link) throw new Error(`no LAN link of ${host} in ${lab.spec.name}`);
    shaped.push(link.a, link.b);
  }
  for (const end of shaped) {
    const argv = ['tc', 'qdisc', 'replace', 'dev', end.ifname, 'root', 'tbf'];
    argv.push('rate', rate, 'burst', BURST, 'latency', LATENCY);
    await lab.exec(nodeOf(lab, end.ns), argv);
  }
  return shaped;
}

function nodeOf(lab: Lab, ns: string): string {
  const node = lab.plan.nodes.find((n) => n.ns === ns);
  if (!node) throw new Error(`no node for namespace ${ns}`);
  return node.name;
}
