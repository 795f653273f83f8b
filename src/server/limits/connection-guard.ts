import type { Server } from 'node:http';
import type { BlockList, Socket } from 'node:net';
import { listed, sourceKey } from './source.js';

export interface ConnectionGuardOptions {
  maxConnectionsPerSource: number;
  maxPendingUpgrades: number;
  upgradeTimeoutSeconds: number;
}

/**
 * TCP-level limits of the WebSocket port, checked before a byte of HTTP is parsed: open connections per
 * source (IPv4 address or IPv6 /64), connections still in their upgrade server-wide, and a deadline for
 * the upgrade (slow headers). Local to this node on purpose: what runs out is this process's descriptors.
 * Connections from trusted proxies are not counted per source (every client behind them shares the
 * proxy's address); they still count as pending upgrades.
 */
export class ConnectionGuard {
  readonly #perSource = new Map<string, number>();
  readonly #upgrading = new Map<Socket, NodeJS.Timeout>();

  constructor(
    private readonly options: ConnectionGuardOptions,
    /** Trusted proxies and exempt sources: not counted per source. */
    private readonly uncounted: BlockList[],
    private readonly onRefused: (limit: 'connections-per-source' | 'pending-upgrades') => void = () => {},
  ) {}

  /** Hooks the guard into `server`: runs on every accepted TCP connection. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.#admit(socket));
    // Node's own slow-header limit, as a second line behind the per-socket deadline.
    // (Node refuses a headersTimeout above requestTimeout.)
    const ceiling = server.requestTimeout > 0 ? server.requestTimeout : Number.POSITIVE_INFINITY;
    server.headersTimeout = Math.min(ceiling, Math.max(1000, this.options.upgradeTimeoutSeconds * 1000));
  }

  /** The socket finished its upgrade (or was refused an upgrade): no longer pending. */
  upgraded(socket: Socket): void {
    const timer = this.#upgrading.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#upgrading.delete(socket);
  }

  /** Connections currently counted for the source of `ip`. */
  connectionsOf(ip: string): number {
    return this.#perSource.get(sourceKey(ip)) ?? 0;
  }

  get pendingUpgrades(): number {
    return this.#upgrading.size;
  }

  #admit(socket: Socket): void {
    const ip = socket.remoteAddress;
    if (ip === undefined) {
      socket.destroy();
      return;
    }
    if (this.#upgrading.size >= this.options.maxPendingUpgrades) {
      this.onRefused('pending-upgrades');
      socket.destroy();
      return;
    }
    const key = this.#counts(ip) ? sourceKey(ip) : undefined;
    if (key !== undefined) {
      const open = this.#perSource.get(key) ?? 0;
      if (open >= this.options.maxConnectionsPerSource) {
        this.onRefused('connections-per-source');
        socket.destroy();
        return;
      }
      this.#perSource.set(key, open + 1);
    }
    const timer = setTimeout(() => {
      this.#upgrading.delete(socket);
      socket.destroy();
    }, this.options.upgradeTimeoutSeconds * 1000);
    timer.unref();
    this.#upgrading.set(socket, timer);
    socket.once('close', () => {
      this.upgraded(socket);
      if (key === undefined) return;
      const left = (this.#perSource.get(key) ?? 1) - 1;
      if (left <= 0) this.#perSource.delete(key);
      else this.#perSource.set(key, left);
    });
  }

  #counts(ip: string): boolean {
    return !this.uncounted.some((list) => listed(list, ip));
  }
}
