import { readFileSync } from 'node:fs';

/**
 * Inclusive ("total") time per function of a V8 .cpuprofile: where the server's time goes below a frame,
 * which the self-time list of bench/harness/cpu-profile.ts cannot show (a judgement's cost is spread
 * over zod, SQLite, ws and the socket write). Percentages are of busy samples ('(idle)' left out).
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
}

export interface InclusiveTime {
  readonly name: string;
  readonly where: string;
  readonly totalPercent: number;
}

function label(node: ProfileNode): { name: string; where: string } {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}` : '';
  return { name: functionName || '(anonymous)', where };
}

export function inclusiveTimes(profilePath: string, count = 25): InclusiveTime[] {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const hits = new Map<number, number>();
  for (const id of profile.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
  const totals = new Map<string, { name: string; where: string; hits: number }>();
  let busy = 0;
  for (const [id, count] of hits) {
    if (byId.get(id)?.callFrame.functionName === '(idle)') continue;
    busy += count;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (!node) break;
      const { name, where } = label(node);
      const key = `${name}@${where}`;
      if (seen.has(key)) continue; // recursion counts once per sample
      seen.add(key);
      const entry = totals.get(key) ?? { name, where, hits: 0 };
      entry.hits += count;
      totals.set(key, entry);
    }
  }
  return [...totals.values()]
    .filter((e) => e.name !== '(root)')
    .sort((a, b) => b.hits - a.hits)
    .slice(0, count)
    .map((e) => ({ name: e.name, where: e.where, totalPercent: (100 * e.hits) / Math.max(1, busy) }));
}
