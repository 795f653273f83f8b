import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type { PrefixLengths } from '../protocol/addresses.js';
import { type Endpoint, userName } from '../protocol/fields.js';
import type { LimitCounters } from '../server/limits/counters.js';
import { type BusHandlers, ClusterBus } from './bus.js';
import { natTag } from './nat-tag.js';
import { NodeLinks } from './node-link.js';
import { RedisCounters } from './redis-counters.js';
import { RedisOnlineRegistry } from './redis-online.js';
import { RelayRoute } from './relay-route.js';
import { AddressReveal } from './reveal.js';

export interface ClusterNodeOptions {
  redisUrl: string;
  /** Key and channel prefix shared by the nodes of one deployment. */
  prefix: string;
  nodeId: string;
  /** Shared by every node: keys the address tags. */
  secret: Buffer;
  onlineTtlMs: number;
  /** How long a relay ticket waits for the buddy (the relay session's claim lives as long). */
  relayTicketTtlMs: number;
  prefixLengths: PrefixLengths;
  registry: Registry;
  log: { warn(o: object, m: string): void; info(o: object, m: string): void };
  /** Users whose last device was reaped by this node (its node stopped its heartbeat): announce offline. */
  onReaped(users: string[]): void;
  /** Users written back after Redis lost this node's entries (restart, or reaped while cut off): online again. */
  onRestored(users: string[]): void;
}

export type ServiceState = 'ok' | 'down';

/** Address tags kept per node at most; when full the memo starts over. */
const TAG_MEMO_MAX = 100_000;

/** Redis as this node sees it: the online registry, the bus, and whether Redis answers. */
export interface ClusterNode {
  readonly nodeId: string;
  readonly online: RedisOnlineRegistry;
  /** The limits' counters (issue 14), shared by the nodes so that each limit holds across them. */
  readonly limits: LimitCounters;
  readonly bus: ClusterBus;
  readonly relay: RelayRoute;
  readonly reveal: AddressReveal;
  /** Where the other nodes reach this one's WebSocket port (relay forwarding); advertised in Redis. */
  setUrl(url: string): void;
  tagOf(address: Endpoint): string;
  /** Caches of shared state (relations) may be trusted only while the bus that invalidates them is up. */
  busUp(): boolean;
  redisState(): ServiceState;
  start(handlers: BusHandlers): Promise<void>;
  /** Another node's link (node-link.ts), on this node's WebSocket port. */
  acceptLink(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Nodes this one has a direct link to. */
  linkedNodes(): string[];
  /** Cuts the links both ways (at shutdown, before the WebSocket port closes); messages go through Redis. */
  closeLinks(): void;
  close(): Promise<void>;
}

/** Connects to Redis (two connections: commands and subscriptions) and starts the heartbeat and reaping. */
export async function startClusterNode(o: ClusterNodeOptions): Promise<ClusterNode> {
  const connect = (role: string): Redis =>
    new Redis(o.redisUrl, {
      lazyConnect: true,
      connectionName: `buddylink:${o.nodeId}:${role}`,
      // Fail at once while Redis is away instead of queueing: the caller answers UNAVAILABLE.
      enableOfflineQueue: role === 'sub',
      maxRetriesPerRequest: 1,
      connectTimeout: 3000,
      retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    });
  const publisher = connect('cmd');
  const subscriber = connect('sub');
  let up = false;
  let subscribed = false;
  const upGauge = new Gauge({
    name: 'buddylink_cluster_redis_up',
    help: '1 while this node reaches Redis (online registry and bus)',
    labelNames: ['node'] as const,
    registers: [o.registry],
  });
  const setUp = (value: boolean) => {
    if (value !== up) o.log[value ? 'info' : 'warn']({ node: o.nodeId }, value ? 'redis up' : 'redis down');
    up = value;
    upGauge.set({ node: o.nodeId }, value ? 1 : 0);
  };
  // A connection's address never changes, and an HMAC per judgement was a visible part of its cost.
  const tags = new Map<string, string>();
  const tagOf = (address: Endpoint): string => {
    let tag = tags.get(address.host);
    if (tag === undefined) {
      tag = natTag(o.secret, address.host, o.prefixLengths);
      if (tags.size >= TAG_MEMO_MAX) tags.clear();
      tags.set(address.host, tag);
    }
    return tag;
  };
  const online = new RedisOnlineRegistry({
    redis: publisher,
    prefix: o.prefix,
    nodeId: o.nodeId,
    ttlMs: o.onlineTtlMs,
    tagOf,
    changesArrive: () => subscribed && subscriber.status === 'ready',
  });
  // Read when scraped; `links` is made below, before the first scrape can happen.
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['node'] as const,
      registers: [o.registry],
      collect() {
        this.set({ node: o.nodeId }, read());
      },
    });
  gauge('buddylink_node_devices_online', 'Devices logged on to this node', () => online.localCount);
  gauge(
    'buddylink_cluster_links_open',
    'Direct links from this node to other nodes that are open',
    () => links.open.length,
  );
  gauge(
    'buddylink_cluster_link_messages',
    'Messages this node sent to other nodes on direct links (the rest went through Redis)',
    () => links.sent,
  );

  let url: string | undefined;
  let relay: RelayRoute | undefined;
  const tick = async () => {
    try {
      const back = await online.heartbeat();
      if (back.length > 0) o.onRestored(back);
      if (url && relay) await relay.advertise(url, o.onlineTtlMs);
      const gone = await online.reap();
      if (gone.length > 0) o.onReaped(gone);
      // Links to every node alive, ahead of the first signal to it.
      for (const node of online.liveNodes()) links.warm(node);
      setUp(publisher.status === 'ready' && subscriber.status === 'ready' && subscribed);
    } catch {
      setUp(false);
    }
  };
  publisher.on('error', () => {});
  subscriber.on('error', () => {});
  for (const conn of [publisher, subscriber]) {
    conn.on('close', () => setUp(false));
    // Back after a restart: write every local entry again at once rather than at the next tick.
    conn.on('ready', () => void tick());
  }
  subscriber.on('ready', () => {
    // ioredis is ready before it has subscribed again: trust caches only once a SUBSCRIBE sent after its
    // own has been answered (one connection, in order), and drop what was read before.
    subscribed = false;
    online.changesMissed();
    subscriber.subscribe(online.channel).then(
      () => {
        online.changesMissed();
        subscribed = true;
      },
      () => {},
    );
  });
  subscriber.on('close', () => {
    subscribed = false;
    online.changesMissed();
  });
  // Every write to the registry names its user here: the cached entries of those users are dropped.
  subscriber.on('message', (channel: string, text: string) => {
    if (channel !== online.channel) return;
    online.changed(text.split('\n').filter((u) => userName.safeParse(u).success));
  });

  await Promise.all([publisher.connect(), subscriber.connect()]);
  const links: NodeLinks = new NodeLinks({
    nodeId: o.nodeId,
    secret: o.secret,
    urlOf: async (node) => relay?.urlOf(node),
    receive: (text) => bus.receive(text),
    log: o.log,
  });
  const bus = new ClusterBus({ publisher, subscriber, prefix: o.prefix, nodeId: o.nodeId, links });
  relay = new RelayRoute({
    redis: publisher,
    bus,
    prefix: o.prefix,
    nodeId: o.nodeId,
    ticketTtlMs: o.relayTicketTtlMs,
  });
  // A third of the TTL: one lost heartbeat (a GC pause, a Redis blip) never takes a node's users offline.
  const timer = setInterval(() => void tick(), Math.max(50, Math.floor(o.onlineTtlMs / 3))).unref();

  return {
    limits: new RedisCounters(publisher, o.prefix, o.secret),
    nodeId: o.nodeId,
    online,
    bus,
    relay,
    reveal: new AddressReveal(bus, o.nodeId),
    setUrl(value) {
      url = value;
      void tick();
    },
    tagOf,
    busUp: () => up,
    redisState: () => (up ? 'ok' : 'down'),
    async start(handlers) {
      await subscriber.subscribe(online.channel);
      await bus.start(handlers);
      subscribed = true;
      online.changesMissed();
      const gone = await online.forgetPreviousLife();
      if (gone.length > 0) o.onReaped(gone);
      await tick();
    },
    acceptLink: (req, socket, head) => links.accept(req, socket, head),
    linkedNodes: () => links.open,
    closeLinks: () => links.close(),
    async close() {
      clearInterval(timer);
      links.close();
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
