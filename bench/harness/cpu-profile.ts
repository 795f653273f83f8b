import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Top self-time functions of a V8 .cpuprofile (what `node --cpu-prof` writes), for the report.
 * Percentages are of busy samples: '(idle)' (waiting in epoll) is left out, since the profiled
 * server also sits idle while the peer is being measured.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
}

export interface HotFunction {
  readonly name: string;
  readonly where: string;
  readonly selfPercent: number;
}

export function hottestFunctions(profilePath: string, count = 12): HotFunction[] {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile;
  const hits = new Map<number, number>();
  for (const id of profile.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byFunction = new Map<string, { name: string; where: string; hits: number }>();
  let total = 0;
  for (const node of profile.nodes) {
    const nodeHits = hits.get(node.id) ?? node.hitCount ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    total += nodeHits;
    const name = functionName || '(anonymous)';
    const where = url ? `${url.replace(/^.*\/(dist|node:)/, '$1')}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = byFunction.get(key) ?? { name, where, hits: 0 };
    entry.hits += nodeHits;
    byFunction.set(key, entry);
  }
  return [...byFunction.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, count)
    .map((entry) => ({
      name: entry.name,
      where: entry.where,
      selfPercent: (100 * entry.hits) / Math.max(1, total),
    }));
}

/** Newest .cpuprofile in a directory. */
export function newestProfile(dir: string): string | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const last = files[files.length - 1];
  return last ? join(dir, last) : undefined;
}
