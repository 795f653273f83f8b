import { createServer, type Server } from 'node:http';
import type { ServerMetrics } from './metrics.js';

/**
 * Operations endpoints on their own port, so that an operator can keep them off the internet:
 * /healthz (200 while serving, 503 while shutting down) and /metrics (Prometheus text format).
 */
export function createOpsServer(
  metrics: ServerMetrics,
  lifecycle: { shuttingDown: boolean },
  /** Several nodes: the state of PostgreSQL and Redis, which /healthz reports (503 when one is down). */
  nodeHealth?: () => Promise<{ ok: boolean } & Record<string, unknown>>,
): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz' && nodeHealth && !lifecycle.shuttingDown) {
      void nodeHealth().then((h) => {
        res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: h.ok ? 'ok' : 'degraded', ...h }));
      });
      return;
    }
    if (path === '/healthz') {
      const status = lifecycle.shuttingDown ? 503 : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: lifecycle.shuttingDown ? 'shutting down' : 'ok' }));
      return;
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500).end();
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
}
