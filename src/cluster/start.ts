import { randomBytes } from 'node:crypto';
import type { ServerOptions } from '../server/config.js';
import { ServiceUnavailableError } from '../store/errors.js';
import { type CheckedStore, openPostgresStore } from '../store/postgres/postgres-store.js';
import { RelationCachingStore } from '../store/relation-cache.js';
import { nodeHealth } from './health.js';
import { type ClusterNode, startClusterNode } from './node.js';

export interface ClusterParts {
  store: RelationCachingStore;
  cluster: ClusterNode;
  health: () => Promise<{ ok: boolean } & Record<string, unknown>>;
}

/**
 * A node of several (SPEC §4.8): the store on PostgreSQL, its relation cache voided by every node's
 * writes, and the online registry and bus on Redis. `onReaped` announces users whose node died,
 * `onRestored` users online again after Redis lost them.
 */
export async function openClusterParts(
  options: ServerOptions & { postgres: string; redis: string; clusterSecret: string },
  registry: ClusterNodeRegistry,
  log: { warn(o: object, m: string): void; info(o: object, m: string): void },
  onReaped: (users: string[]) => void,
  onRestored: (users: string[]) => void,
): Promise<ClusterParts> {
  const nodeId = options.nodeId ?? `node-${randomBytes(4).toString('hex')}`;
  const pgStore: CheckedStore = await openPostgresStore({ url: options.postgres });
  let cluster: ClusterNode;
  try {
    cluster = await startClusterNode({
      redisUrl: options.redis,
      prefix: options.clusterPrefix,
      nodeId,
      secret: Buffer.from(options.clusterSecret, 'utf8'),
      onlineTtlMs: options.onlineTtlSeconds * 1000,
      relayTicketTtlMs: options.relayTicketTtlSeconds * 1000,
      prefixLengths: { v4: options.v4Prefix, v6: options.v6Prefix },
      registry,
      log,
      onReaped,
      onRestored,
    });
  } catch (err) {
    await pgStore.close();
    throw err;
  }
  const bus = cluster.bus;
  const store = new RelationCachingStore(pgStore, undefined, {
    changed: async (a, b) => {
      try {
        await bus.relationChanged(a, b);
      } catch (err) {
        throw new ServiceUnavailableError('online registry', { cause: err });
      }
    },
    invalidationsArrive: () => cluster.busUp(),
  });
  const health = async () => ({ ...(await nodeHealth(() => pgStore.ping(), cluster)) });
  return { store, cluster, health };
}

type ClusterNodeRegistry = Parameters<typeof startClusterNode>[0]['registry'];
