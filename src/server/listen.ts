import type { Server } from 'node:http';
import { isIP } from 'node:net';

/** The dual-stack wildcard; on a machine without IPv6 the server falls back to IPv4's. */
export const DUAL_STACK_HOST = '::';
export const IPV4_ANY = '0.0.0.0';

/** Listens and resolves with the bound address; `::` falls back to `0.0.0.0` where IPv6 is missing. */
export async function listenTcp(
  server: Server,
  host: string,
  port: number,
): Promise<{ host: string; port: number }> {
  try {
    return await listenOnce(server, host, port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (host !== DUAL_STACK_HOST || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw err;
    return listenOnce(server, IPV4_ANY, port);
  }
}

function listenOnce(server: Server, host: string, port: number): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => reject(err);
    server.once('error', fail);
    server.listen({ host, port, ipv6Only: false }, () => {
      server.off('error', fail);
      const bound = server.address();
      if (bound === null || typeof bound === 'string') return reject(new Error('no TCP address'));
      resolve({ host: bound.address, port: bound.port });
    });
  });
}

export function closeTcp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The host to put in a URL that a local client can use: a wildcard bind is reached through loopback
 * (127.0.0.1 also reaches a dual-stack `::` listener), and IPv6 literals go in brackets (RFC 3986 §3.2.2).
 */
export function urlHost(boundHost: string): string {
  if (boundHost === DUAL_STACK_HOST || boundHost === IPV4_ANY) return '127.0.0.1';
  return isIP(boundHost) === 6 ? `[${boundHost}]` : boundHost;
}
