import type { BlockList } from 'node:net';
import { MemoryCounters } from './memory-counters.js';
import { listed, sourceKey } from './source.js';

/**
 * STUN's per-source token bucket (IPv4 address or IPv6 /64), like coturn's per-client limits: a flood
 * from one source is dropped unanswered, so the server is neither a reflector nor kept busy. Local to
 * this node and synchronous (the STUN path answers in microseconds); each node sees its own datagrams.
 */
export function stunAdmission(
  options: { stunRequestsPerSecond: number; stunBurst: number },
  exempt: BlockList,
): (ip: string) => boolean {
  const buckets = new MemoryCounters();
  let lastIp = '';
  let lastExempt = false;
  let lastKey = '';
  return (ip) => {
    // Datagrams come in runs from one source: remember the last one's key rather than parse again.
    if (ip !== lastIp) {
      lastIp = ip;
      lastExempt = listed(exempt, ip);
      lastKey = sourceKey(ip);
    }
    if (lastExempt) return true;
    return buckets.takeNow(lastKey, options.stunBurst, options.stunRequestsPerSecond);
  };
}
