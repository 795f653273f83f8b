import type { Benchmark } from './harness/benchmark.js';
import { measureCliThroughput } from './transfer/cli-throughput.js';
import { openLabLan } from './transfer/places.js';
import { mebibytes } from './transfer/sizes.js';

/**
 * Issue 9, item 4, row 2: the lab's one NAT, each client's LAN link shaped to 1 Gbit/s with tbf (this
 * kernel has no netem): `send --path lan` against iperf3 TCP (and the same cipher over TCP) on the
 * same shaped link, between the same two lab hosts.
 */

const RATE = '1gbit';

export const labLanShapedBenchmark: Benchmark = {
  name: 'lab-lan-shaped',
  description: `NAT lab LAN shaped to ${RATE} (tbf): CLI send vs iperf3 TCP and the same cipher over TCP`,
  run: (context) =>
    measureCliThroughput(context, {
      open: () => openLabLan({ shapeRate: RATE }),
      paths: ['lan'],
      goals: { lan: { against: 'iperf3', atLeast: 0.8 } },
      title: (bytes) =>
        `Lab LAN shaped to 1 Gbit/s: CLI send vs iperf3 TCP on the same link (${mebibytes(bytes)})`,
      where: [
        `lab one-nat: alice (192.168.1.10) and bob (192.168.1.11) on one LAN behind one NAT, the server on the lab internet; both directions of each client's LAN link shaped with \`tc qdisc replace dev IF root tbf rate ${RATE} burst 256kb latency 10ms\` (client end and router end of its veth), so alice → bob crosses two shaped egresses`,
      ],
    }),
};
