import type { ClusterNode, ServiceState } from './node.js';

export interface NodeHealth {
  ok: boolean;
  node: string;
  store: ServiceState;
  redis: ServiceState;
}

/** /healthz of a node: it serves correctly only while both PostgreSQL and Redis answer. */
export async function nodeHealth(ping: () => Promise<void>, cluster: ClusterNode): Promise<NodeHealth> {
  let store: ServiceState = 'ok';
  try {
    await Promise.race([
      ping(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
    ]);
  } catch {
    store = 'down';
  }
  const redis = cluster.redisState();
  return { ok: store === 'ok' && redis === 'ok', node: cluster.nodeId, store, redis };
}
