import type { floorBytesPerClient } from './children.js';
import type { HoldResult } from './hold.js';

/** The shape of a run that the report names. */
interface RunShape {
  nodes: number;
  generators: number;
  window: number;
  holdSeconds: number;
}

export const n0f = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

export function printHold(
  h: HoldResult,
  args: RunShape,
  floor: Awaited<ReturnType<typeof floorBytesPerClient>>,
): void {
  console.log(
    `\nlogons: ${h.held} token logons over ${args.nodes} nodes from ${args.generators} generators: ${n0f(h.logonsPerSecond)}/s (${n0f(h.logonSeconds, 1)} s; ${args.window} in flight per generator; connect+logon p50 ${n0f(h.logonP50Ms, 1)} ms, p99 ${n0f(h.logonP99Ms, 1)} ms)`,
  );
  const c = h.logonCpu;
  const part = (name: string, x: { perThousand: number; percent: number }) =>
    `${name} ${n0f(x.perThousand, 2)} s (${n0f(x.percent)} %)`;
  console.log(
    `logon CPU per 1,000 logons (and % of one core during the logons): ${part('nodes', c.nodes)}, ${part('generators', c.generators)}, ${part('PostgreSQL', c.postgres)}, ${part('Redis', c.redis)}`,
  );
  const failures = Object.entries(h.errors)
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
  console.log(
    `held: ${h.held} of ${h.attempted} clients on ${args.nodes} nodes; the nodes' gauges say ${h.devicesOnline} logged on${h.gaugesUnreachable > 0 ? ` (${h.gaugesUnreachable} node(s) could not answer /metrics: no descriptor left)` : ''}; failed ${h.failed}${failures ? ` (${failures})` : ''}, skipped ${h.skipped}${h.full.length > 0 ? `; nodes given up as full: ${h.full.join(', ')}` : ''}`,
  );
  console.log(
    `alive after ${args.holdSeconds} s: ${h.probe.open} sockets open, ${h.probe.answered}/${h.probe.asked} sampled clients answered a ping`,
  );
  console.log(
    '\n| node | held | gauge (logged on) | descriptors / limit | RSS MiB | RSS growth per client KiB | heap growth per client KiB | CPU % while held |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const n of h.nodes)
    console.log(
      `| ${n.id}${n.alive ? '' : ' (dead)'} | ${n.held} | ${n0f(n.devicesOnline)} | ${n.fds} / ${n.fdLimit} | ${n0f(n.rssMiB)} | ${n0f(n.rssGrowthBytesPerClient / 1024, 1)} | ${n0f(n.heapGrowthBytesPerClient / 1024, 1)} | ${n0f(n.cpuPercentHold)} |`,
    );
  console.log('\n| generator | held | failed | logons/s | RSS MiB | descriptors |');
  console.log('|---|---|---|---|---|---|');
  for (const g of h.perGenerator)
    console.log(`| ${g.pid} | ${g.held} | ${g.failed} | ${n0f(g.perSecond)} | ${n0f(g.rssMiB)} | ${g.fds} |`);
  console.log(
    `\nwhile held: redis-server CPU ${h.redisCpuPercentHold === undefined ? 'unknown (not local)' : `${n0f(h.redisCpuPercentHold)} %`}, generators ${n0f(h.generatorsCpuPercentHold)} % in all`,
  );
  console.log(
    `floor: bare ws server holding ${floor.clients} clients (after a full GC): RSS ${n0f(floor.bytesPerClient / 1024, 1)} KiB, heap ${n0f(floor.heapBytesPerClient / 1024, 1)} KiB per client; cluster node RSS ${n0f(h.rssGrowthBytesPerClient / 1024, 1)} KiB = ${n0f(h.rssGrowthBytesPerClient / floor.bytesPerClient, 2)}x, heap ${n0f(h.heapGrowthBytesPerClient / 1024, 1)} KiB = ${n0f(h.heapGrowthBytesPerClient / floor.heapBytesPerClient, 2)}x the floor`,
  );
}
