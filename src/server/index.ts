import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { ClusterNode } from '../cluster/node.js';
import { LINK_PATH } from '../cluster/node-link.js';
import { forwardRelaySocket } from '../cluster/relay-route.js';
import { MemoryOnlineRegistry } from '../store/memory-online.js';
import { RelationCachingStore } from '../store/relation-cache.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { type StunServer, startStunServer } from '../stun/server.js';
import { resolveOptions, type ServerOptions } from './config.js';
import type { ServerContext } from './context.js';
import { serveControlConnection } from './control.js';
import { CLOSE_CODES } from './control-connection.js';
import { busHandlers } from './deliver.js';
import { startHeartbeat } from './heartbeat.js';
import { createOpsServer } from './http.js';
import { ConnectionGuard } from './limits/connection-guard.js';
import { LogonThrottle } from './limits/logon-throttle.js';
import { MemoryCounters } from './limits/memory-counters.js';
import { stunAdmission } from './limits/stun-admission.js';
import { closeTcp, listenTcp, urlHost } from './listen.js';
import { createAddressTagger, createLogger } from './log.js';
import { ServerMetrics } from './metrics.js';
import { queuePresence } from './presence.js';
import { PresenceQueue } from './presence-queue.js';
import { registeredAddressOf, trustedProxies } from './registered-address.js';
import { RELAY_PATH_PREFIX, RelayHub } from './relay-hub.js';
import { SignalRoutes } from './signal-routes.js';
import { advertisedStunEndpoints } from './stun-endpoints.js';

export type { ServerOptions } from './config.js';
export { DEFAULT_OPTIONS, OPTION_SPECS, optionsFromEnv, resolveOptions } from './config.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface RunningServer {
  /** Bound addresses (host as bound: `::` for the dual-stack default). */
  ws: ListenAddress;
  stun: ListenAddress;
  /** The second STUN port (RFC 5780 OTHER-ADDRESS), unless switched off. */
  stunAlternate?: ListenAddress;
  http: ListenAddress;
  /** URLs a local client can use: ws://HOST:PORT, udp://HOST:PORT, http://HOST:PORT. */
  urls: { ws: string; stun: string; http: string };
  /** The options in force, defaults filled in. */
  options: ServerOptions;
  /** Graceful shutdown: clients get a shutdown event, then every socket is closed. Idempotent. */
  close(): Promise<void>;
}

/** Starts the WebSocket (control + relay), STUN and HTTP listeners with `options` over the defaults. */
export async function startServer(partial: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const options = resolveOptions(partial);
  const log = createLogger(options.logLevel);
  const metrics = new ServerMetrics();
  const lifecycle = { shuttingDown: false };
  // Several nodes (SPEC §4.8): PostgreSQL and Redis, src/cluster/. Else this process alone writes its
  // SQLite database, so accepted relations may be cached (consent check).
  // Loaded only for several nodes: pg and ioredis are optional dependencies of a single node.
  let reaped: (users: string[]) => void = () => {};
  let restored: (users: string[]) => void = () => {};
  const parts =
    options.postgres !== null && options.redis !== null && options.clusterSecret !== null
      ? await (await import('../cluster/start.js')).openClusterParts(
          {
            ...options,
            postgres: options.postgres,
            redis: options.redis,
            clusterSecret: options.clusterSecret,
          },
          metrics.registry,
          log,
          (users) => reaped(users),
          (users) => restored(users),
        )
      : undefined;
  const store = parts?.store ?? new RelationCachingStore(openSqliteStore(options.dataDir));
  // Several nodes keep the limits' counters in Redis, so that a limit holds across the nodes.
  const limits = parts?.cluster.limits ?? new MemoryCounters();
  const addressTag = createAddressTagger();
  const limitExempt = trustedProxies(options.limitExemptSources);
  const ctx: ServerContext = {
    options,
    store,
    online: parts?.cluster.online ?? new MemoryOnlineRegistry(),
    ...(parts ? { cluster: parts.cluster } : {}),
    log,
    metrics,
    trustedProxies: trustedProxies(options.trustProxy),
    limitExempt,
    addressTag,
    connections: new Map(),
    signalRoutes: new SignalRoutes(),
    presence: new PresenceQueue(PRESENCE_CONCURRENCY, (user, err) =>
      log.warn({ user, err: err instanceof Error ? err.message : String(err) }, 'presence not announced'),
    ),
    relay: new RelayHub(options, metrics, log, limits),
    lifecycle,
    stunEndpoints: [],
    limits,
    logonThrottle: new LogonThrottle(limits, options, log, addressTag, limitExempt, (limit) =>
      metrics.limited.inc({ limit }),
    ),
  };
  const guard = new ConnectionGuard(options, [ctx.trustedProxies, limitExempt], (limit) =>
    metrics.limited.inc({ limit }),
  );

  const controlWss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes });
  const relayWss = new WebSocketServer({ noServer: true, maxPayload: options.relayMaxFrameBytes });
  const wsServer = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('WebSocket only\n');
  });
  guard.attach(wsServer);
  wsServer.on('upgrade', (req, socket, head) => {
    guard.upgraded(req.socket);
    routeUpgrade(ctx, controlWss, relayWss, req, socket, head);
  });
  const opsServer = createOpsServer(metrics, lifecycle, parts?.health);
  if (parts) {
    const announce = (online: boolean) => (users: string[]) => {
      for (const user of users) queuePresence(ctx, user, online);
    };
    reaped = announce(false);
    restored = announce(true);
    try {
      await parts.cluster.start(busHandlers(ctx, (a, b) => store.forget(a, b)));
    } catch (err) {
      await parts.cluster.close();
      await store.close();
      throw err;
    }
  }
  const stopHeartbeats = [
    startHeartbeat(controlWss, options.heartbeatSeconds),
    startHeartbeat(relayWss, options.heartbeatSeconds),
  ];

  const opened: Array<() => Promise<void>> = [() => store.close()];
  if (parts) opened.push(() => parts.cluster.close());
  const undo = async () => {
    for (const close of opened.reverse()) await close().catch(() => {});
  };
  let wsBound: ListenAddress;
  let stun: StunServer;
  let httpBound: ListenAddress;
  try {
    wsBound = await listenTcp(wsServer, options.host, options.port);
    opened.push(() => closeTcp(wsServer));
    // The STUN and HTTP listeners follow the WebSocket's host, which may have fallen back to IPv4.
    stun = await startStunServer({
      host: wsBound.host,
      port: options.stunPort,
      ...(options.stunAlternate ? { alternatePort: alternateStunPort(options) } : {}),
      software: options.stunSoftware,
      onBinding: (outcome) => metrics.stunRequests.inc({ outcome }),
      admit: stunAdmission(options, limitExempt),
      mappedAddress: options.stunMappedAddress,
    });
    opened.push(() => stun.close());
    // Bound before the first logon can complete: a logon needs a WebSocket round trip and a hash.
    ctx.stunEndpoints.push(...advertisedStunEndpoints(stun));
    httpBound = await listenTcp(opsServer, wsBound.host, options.httpPort);
  } catch (err) {
    for (const stopHeartbeat of stopHeartbeats) stopHeartbeat();
    await undo();
    throw err;
  }

  const tokenSweep = setInterval(
    () => void store.deleteExpiredTokens(Date.now()).catch(() => {}),
    60 * 60 * 1000,
  ).unref();

  const urls = {
    ws: `ws://${urlHost(wsBound.host)}:${wsBound.port}`,
    stun: `udp://${urlHost(stun.host)}:${stun.port}`,
    http: `http://${urlHost(httpBound.host)}:${httpBound.port}`,
  };
  parts?.cluster.setUrl(options.nodeUrl ?? urls.ws);
  log.info(
    { ...urls, revealAddresses: options.revealAddresses, relay: options.relay, node: parts?.cluster.nodeId },
    'listening',
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      lifecycle.shuttingDown = true;
      clearInterval(tokenSweep);
      for (const stopHeartbeat of stopHeartbeats) stopHeartbeat();
      await shutDownConnections(ctx, controlWss, relayWss);
      // Other nodes' links are sockets on the WebSocket port too: cut, or it never closes.
      parts?.cluster.closeLinks();
      await Promise.all([closeTcp(wsServer), closeTcp(opsServer), stun.close()]);
      await parts?.cluster.close();
      await store.close();
      log.info('stopped');
    })();
    return closing;
  };

  return {
    ws: wsBound,
    stun: { host: stun.host, port: stun.port },
    ...(stun.alternatePort !== undefined
      ? { stunAlternate: { host: stun.host, port: stun.alternatePort } }
      : {}),
    http: httpBound,
    urls,
    options,
    close,
  };
}

/**
 * Declared once, not inline in routeUpgrade: an inline arrow would share routeUpgrade's closure context,
 * which holds `req` (the callbacks below use it), and so keep every connection's upgrade request with
 * its headers alive as long as the socket (~1.2 KB per idle client, bench/capacity.ts).
 */
const ignoreSocketError = (): void => {};

/** Presence announcements in flight at once: enough to keep the store busy, few enough to queue here. */
const PRESENCE_CONCURRENCY = 16;

/** One port for both WebSockets: /relay/<ticket> is a relay socket, every other path the control channel. */
function routeUpgrade(
  ctx: ServerContext,
  controlWss: WebSocketServer,
  relayWss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  socket.on('error', ignoreSocketError);
  if (ctx.lifecycle.shuttingDown) {
    refuseUpgrade(socket, 503, 'Service Unavailable');
    return;
  }
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (path.startsWith(RELAY_PATH_PREFIX)) {
    const ticket = path.slice(RELAY_PATH_PREFIX.length);
    if (!ctx.options.relay) {
      refuseUpgrade(socket, 403, 'Forbidden');
      return;
    }
    if (!ctx.relay.hasTicket(ticket)) {
      if (ctx.cluster) forwardRelayUpgrade(ctx.cluster, relayWss, ticket, req, socket, head);
      else refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    relayWss.handleUpgrade(req, socket, head, (ws) => {
      relayWss.emit('connection', ws, req);
      ctx.relay.attach(ticket, ws);
    });
    return;
  }
  if (path === LINK_PATH && ctx.cluster) {
    ctx.cluster.acceptLink(req, socket, head);
    return;
  }
  const registered = registeredAddressOf(req, ctx.trustedProxies);
  if (!registered) {
    refuseUpgrade(socket, 400, 'Bad Request');
    return;
  }
  controlWss.handleUpgrade(req, socket, head, (ws) => {
    controlWss.emit('connection', ws, req);
    serveControlConnection(ctx, ws, registered);
  });
}

/** Several nodes: a ticket this node handed out for another node's relay hub is forwarded there. */
function forwardRelayUpgrade(
  cluster: ClusterNode,
  relayWss: WebSocketServer,
  ticket: string,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  cluster.relay.forwardTarget(ticket).then(
    (url) => {
      if (!url) return refuseUpgrade(socket, 404, 'Not Found');
      relayWss.handleUpgrade(req, socket, head, (ws) => {
        relayWss.emit('connection', ws, req);
        forwardRelaySocket(ws, `${url}${RELAY_PATH_PREFIX}${ticket}`);
      });
    },
    () => refuseUpgrade(socket, 503, 'Service Unavailable'),
  );
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Tells every client, then closes; sockets that do not finish the close handshake in time are cut. */
async function shutDownConnections(
  ctx: ServerContext,
  controlWss: WebSocketServer,
  relayWss: WebSocketServer,
): Promise<void> {
  for (const conn of ctx.connections.values()) {
    conn.sendEvent({ event: 'shutdown', reason: 'server shutting down' });
    conn.close(CLOSE_CODES.goingAway, 'server shutting down');
  }
  ctx.relay.closeAll();
  const sockets = [...controlWss.clients, ...relayWss.clients];
  await Promise.race([
    Promise.all(
      sockets.map(
        (s) =>
          new Promise<void>((done) => (s.readyState === s.CLOSED ? done() : s.once('close', () => done()))),
      ),
    ),
    new Promise<void>((done) => setTimeout(done, ctx.options.shutdownGraceMs)),
  ]);
  for (const s of sockets) s.terminate();
  await Promise.all([
    new Promise<void>((done) => controlWss.close(() => done())),
    new Promise<void>((done) => relayWss.close(() => done())),
  ]);
}

/** -1 follows the STUN port (one above it, or a free one when the STUN port is chosen by the system). */
function alternateStunPort(options: ServerOptions): number {
  if (options.stunAltPort >= 0) return options.stunAltPort;
  return options.stunPort === 0 || options.stunPort === 65535 ? 0 : options.stunPort + 1;
}
