import { readFileSync } from 'node:fs';

/**
 * Bytes per client by constructor: two V8 heap snapshots of the server (before the clients and with
 * them), self sizes summed per (type, name), the difference divided by the clients held. Tells which
 * of the server's per-connection objects make up its bytes per client.
 */

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function sizesByConstructor(path: string): Map<string, { bytes: number; count: number }> {
  const heap = JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = heap.snapshot.meta.node_types[0];
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < heap.nodes.length; i += stride) {
    const type = types[heap.nodes[i + typeAt]!] ?? '?';
    // Strings and code are grouped by type; objects by constructor name.
    const name = type === 'object' || type === 'closure' ? heap.strings[heap.nodes[i + nameAt]!] : '';
    const key = name ? `${type} ${name}` : `(${type})`;
    const entry = out.get(key) ?? { bytes: 0, count: 0 };
    entry.bytes += heap.nodes[i + sizeAt]!;
    entry.count++;
    out.set(key, entry);
  }
  return out;
}

export interface PerClientShare {
  readonly what: string;
  readonly bytesPerClient: number;
  readonly objectsPerClient: number;
}

export function perClientShares(
  before: string,
  after: string,
  clients: number,
  count = 20,
): PerClientShare[] {
  const a = sizesByConstructor(before);
  const b = sizesByConstructor(after);
  return [...b.entries()]
    .map(([what, v]) => ({
      what,
      bytesPerClient: (v.bytes - (a.get(what)?.bytes ?? 0)) / clients,
      objectsPerClient: (v.count - (a.get(what)?.count ?? 0)) / clients,
    }))
    .sort((x, y) => y.bytesPerClient - x.bytesPerClient)
    .slice(0, count);
}
