import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type Endpoint, formatEndpoint, type StunEndpoint } from '../protocol/index.js';
import { globalIpv6Addresses, parseHostPort } from './addresses.js';
import { learnWithClass, type NatClass } from './nat-class.js';
import { DEFAULT_STUN_PORT } from './options.js';
import type { PeerSocket } from './peer-socket.js';

/**
 * S101–S102: the client's own global address, learnt by STUN through the peer socket itself (so it
 * is the NAT mapping the buddy's punches will reach), kept for a while and shared by concurrent asks.
 */
export class GlobalAddress {
  private cached: { at: number; endpoint: Endpoint; nat: NatClass } | undefined;
  /** The STUN server's other port (OTHER-ADDRESS), once it named one: later refreshes ask both at once. */
  private alternate: { of: Endpoint; at: Endpoint } | undefined;
  private inFlight: Promise<Endpoint> | undefined;
  private stunServer: Promise<Endpoint> | undefined;
  /** Where the server said (at logon) its STUN answers; undefined from servers that do not say. */
  private advertised: StunEndpoint[] | undefined;

  constructor(
    private readonly socket: PeerSocket,
    private readonly controlUrl: string,
    private readonly stun: string | undefined,
    private readonly extra: Endpoint[] = [],
  ) {}

  /** Takes the logon result's STUN endpoints (again after a reconnect: the server may have moved). */
  useAdvertised(advertised: StunEndpoint[] | undefined): void {
    if (JSON.stringify(advertised) === JSON.stringify(this.advertised)) return;
    this.advertised = advertised;
    this.stunServer = undefined;
  }

  /**
   * The STUN server: the `stun` option if given; else where the server said at logon, its host
   * defaulting to the control server's; else (an older server) the control server's host on 3478.
   */
  server(): Promise<Endpoint> {
    if (this.stunServer) return this.stunServer;
    const resolving = this.resolveServer();
    this.stunServer = resolving;
    // A failed name look-up is tried again next time rather than remembered.
    resolving.catch(() => {
      if (this.stunServer === resolving) this.stunServer = undefined;
    });
    return resolving;
  }

  async learn(timeoutMs: number, ttlMs: number): Promise<Endpoint> {
    if (this.cached && performance.now() - this.cached.at < ttlMs) return this.cached.endpoint;
    this.inFlight ??= (async () => {
      try {
        // The NAT class is learnt and refreshed with the address: a new network brings both anew.
        const server = await this.server();
        const learnt = await learnWithClass(
          this.socket,
          server,
          timeoutMs,
          this.alternate?.of === server ? this.alternate.at : undefined,
        );
        this.alternate = learnt.alternate ? { of: server, at: learnt.alternate } : undefined;
        this.cached = { at: performance.now(), endpoint: learnt.global, nat: learnt.nat };
        return learnt.global;
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }

  /** The mapping class learnt with the last global address (undefined before the first). */
  natClass(): NatClass | undefined {
    return this.cached?.nat;
  }

  /** S103/S123: what is offered as global: STUN's answer, global IPv6, and configured extras. */
  async offer(timeoutMs: number, ttlMs: number): Promise<Endpoint[]> {
    const all = [await this.learn(timeoutMs, ttlMs), ...globalIpv6Addresses(this.socket), ...this.extra];
    const seen = new Map(all.map((e) => [formatEndpoint(e), e]));
    return [...seen.values()];
  }

  private resolveServer(): Promise<Endpoint> {
    if (this.stun !== undefined) return resolveHost(parseHostPort(this.stun, DEFAULT_STUN_PORT));
    const controlHost = new URL(this.controlUrl).hostname;
    const usable = (this.advertised ?? []).filter(
      (e) => e.host === undefined || this.socket.canReach({ host: e.host, port: e.port }),
    );
    // A named host this socket can reach first: it is where the server knows it answers.
    const chosen = usable.find((e) => e.host !== undefined) ?? usable[0];
    if (chosen === undefined) return resolveHost({ host: controlHost, port: DEFAULT_STUN_PORT });
    return resolveHost({ host: chosen.host ?? controlHost, port: chosen.port });
  }
}

async function resolveHost(target: { host: string; port: number }): Promise<Endpoint> {
  const host = target.host.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return { host, port: target.port };
  const found = await lookup(host);
  return { host: found.address, port: target.port };
}
