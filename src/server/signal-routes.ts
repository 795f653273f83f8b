/** How long the server remembers which devices take part in a signalling session. */
export const SIGNAL_ROUTE_TTL_MS = 5 * 60 * 1000;
/** Bound on remembered sessions, so that no client can grow server memory without limit. */
export const SIGNAL_ROUTE_LIMIT = 10_000;

interface Route {
  /** user → connection id of the device that spoke for that user in this session. */
  devices: Map<string, string>;
  expiresAt: number;
}

/**
 * Keeps an exchange on the devices that started it: B's answer goes back to the device of A that sent
 * the offer, not to A's default target device (a user may be logged on from several devices). Keyed by
 * the pair and the session id, so that no third user can steer another pair's session.
 */
export class SignalRoutes {
  readonly #routes = new Map<string, Route>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The connection that spoke for `user` in this pair's session, if remembered. */
  deviceOf(from: string, to: string, session: string, user: string): string | undefined {
    const route = this.#routes.get(key(from, to, session));
    if (!route || route.expiresAt < this.now()) return undefined;
    return route.devices.get(user);
  }

  remember(from: string, to: string, session: string, devices: { [user: string]: string }): void {
    const k = key(from, to, session);
    const route = this.#routes.get(k) ?? { devices: new Map<string, string>(), expiresAt: 0 };
    for (const [user, connectionId] of Object.entries(devices)) route.devices.set(user, connectionId);
    route.expiresAt = this.now() + SIGNAL_ROUTE_TTL_MS;
    this.#routes.delete(k);
    this.#routes.set(k, route);
    this.#prune();
  }

  /** Removing a buddy forgets every session of the pair at once. */
  forgetPair(a: string, b: string): void {
    const prefix = pairKey(a, b);
    for (const k of this.#routes.keys()) if (k.startsWith(prefix)) this.#routes.delete(k);
  }

  #prune(): void {
    const t = this.now();
    for (const [k, route] of this.#routes) {
      if (this.#routes.size <= SIGNAL_ROUTE_LIMIT && route.expiresAt >= t) break;
      this.#routes.delete(k);
    }
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\n${b}\n` : `${b}\n${a}\n`;
}

function key(a: string, b: string, session: string): string {
  return `${pairKey(a, b)}${session}`;
}
