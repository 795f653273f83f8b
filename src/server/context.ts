import type { BlockList } from 'node:net';
import type { ClusterNode } from '../cluster/node.js';
import type { StunEndpoint } from '../protocol/index.js';
import type { OnlineRegistry } from '../store/online.js';
import type { Store } from '../store/store.js';
import type { ServerOptions } from './config.js';
import type { ControlConnection } from './control-connection.js';
import type { LimitCounters } from './limits/counters.js';
import type { LogonThrottle } from './limits/logon-throttle.js';
import type { Logger } from './log.js';
import type { ServerMetrics } from './metrics.js';
import type { PresenceQueue } from './presence-queue.js';
import type { RelayHub } from './relay-hub.js';
import type { SignalRoutes } from './signal-routes.js';

/** Everything a request handler may use; one per running server. */
export interface ServerContext {
  readonly options: ServerOptions;
  readonly store: Store;
  readonly online: OnlineRegistry;
  readonly log: Logger;
  readonly metrics: ServerMetrics;
  readonly trustedProxies: BlockList;
  /** Sources no per-source limit applies to (limitExemptSources). */
  readonly limitExempt: BlockList;
  /** Hides a client IP before it may be logged. */
  readonly addressTag: (ip: string) => string;
  /** This node's control connections by id: where events for an online device are written. */
  readonly connections: Map<string, ControlConnection>;
  readonly signalRoutes: SignalRoutes;
  readonly relay: RelayHub;
  readonly lifecycle: { shuttingDown: boolean };
  /** Where this server's STUN answers, for the logon result; filled once the STUN socket is bound. */
  readonly stunEndpoints: StunEndpoint[];
  /** Per-user, per-account and per-source counters (src/server/limits/), shareable between nodes. */
  readonly limits: LimitCounters;
  readonly logonThrottle: LogonThrottle;
  /** Presence announcements, in the background and in order per user. */
  readonly presence: PresenceQueue;
  /** Several nodes on Redis (SPEC §4.8): the shared registry and the bus; absent on a single node. */
  readonly cluster?: ClusterNode;
}
