import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type Endpoint, formatEndpoint } from '../protocol/index.js';
import { globalIpv6Addresses, parseHostPort } from './addresses.js';
import { DEFAULT_STUN_PORT } from './options.js';
import type { PeerSocket } from './peer-socket.js';

/**
 * S101–S102: the client's own global address, learnt by STUN through the peer socket itself (so it
 * is the NAT mapping the buddy's punches will reach), kept for a while and shared by concurrent asks.
 */
export class GlobalAddress {
  private cached: { at: number; endpoint: Endpoint } | undefined;
  private inFlight: Promise<Endpoint> | undefined;
  private stunServer: Promise<Endpoint> | undefined;

  constructor(
    private readonly socket: PeerSocket,
    private readonly controlUrl: string,
    private readonly stun: string | undefined,
    private readonly extra: Endpoint[] = [],
  ) {}

  /** The STUN server: the option if given, else the control server's host on the STUN port. */
  server(): Promise<Endpoint> {
    this.stunServer ??= resolveStunServer(
      this.stun ?? new URL(this.controlUrl).host,
      this.stun === undefined,
    );
    return this.stunServer;
  }

  async learn(timeoutMs: number, ttlMs: number): Promise<Endpoint> {
    if (this.cached && performance.now() - this.cached.at < ttlMs) return this.cached.endpoint;
    this.inFlight ??= (async () => {
      try {
        const endpoint = await this.socket.stunQuery(await this.server(), timeoutMs);
        this.cached = { at: performance.now(), endpoint };
        return endpoint;
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }

  /** S103/S123: what is offered as global: STUN's answer, global IPv6, and configured extras. */
  async offer(timeoutMs: number, ttlMs: number): Promise<Endpoint[]> {
    const all = [await this.learn(timeoutMs, ttlMs), ...globalIpv6Addresses(this.socket), ...this.extra];
    const seen = new Map(all.map((e) => [formatEndpoint(e), e]));
    return [...seen.values()];
  }
}

async function resolveStunServer(text: string, fromControlUrl: boolean): Promise<Endpoint> {
  const parsed = parseHostPort(text, DEFAULT_STUN_PORT);
  const port = fromControlUrl ? DEFAULT_STUN_PORT : parsed.port;
  const host = parsed.host.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return { host, port };
  const found = await lookup(host);
  return { host: found.address, port };
}
