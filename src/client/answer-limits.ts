import { BlockList, isIP } from 'node:net';
import type { Endpoint, SignalBody } from '../protocol/index.js';
import { isProbeTarget } from './punch-target.js';

/**
 * Bounds on what a buddy's offers can make this device do (issue 14, rows 1 and 2). An offer costs us
 * an answer (a request to the server, which limits our requests per second) and punch datagrams to the
 * addresses it names, so a buddy flooding offers could get us disconnected or make us flood a third
 * party. New sessions are admitted per buddy and in total by token buckets and dropped silently beyond
 * (a decline would cost a request too); declines have their own small budget.
 */
export const ANSWER_LIMITS = {
  /**
   * New sessions one buddy may open with us at once, then one per `perBuddyRefillSeconds`. A session
   * that becomes a connection (the buddy proved its key and chose the path) gives its token back, so
   * connecting again and again is never limited; offers that lead nowhere are.
   */
  sessionsPerBuddy: 6,
  perBuddyRefillSeconds: 1,
  /** New sessions of all buddies together: burst, and sustained per second. */
  sessionsBurst: 16,
  sessionsPerSecond: 4,
  /** Declines (abort signals) we send: burst and per second; beyond, offers go unanswered. */
  declinesBurst: 5,
  declinesPerSecond: 1,
  /** Buddies whose buckets are kept; the oldest is forgotten beyond (a forgotten bucket starts full). */
  maxTracked: 1024,
} as const;

class Bucket {
  #tokens: number;
  #last = performance.now();
  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
  ) {
    this.#tokens = capacity;
  }
  giveBack(): void {
    this.#tokens = Math.min(this.capacity, this.#tokens + 1);
  }
  tryTake(): boolean {
    const t = performance.now();
    this.#tokens = Math.min(this.capacity, this.#tokens + ((t - this.#last) / 1000) * this.perSecond);
    this.#last = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Which offers this device answers and which declines it sends. */
export class OfferGate {
  readonly #perBuddy = new Map<string, Bucket>();
  readonly #all = new Bucket(ANSWER_LIMITS.sessionsBurst, ANSWER_LIMITS.sessionsPerSecond);
  readonly #declines = new Bucket(ANSWER_LIMITS.declinesBurst, ANSWER_LIMITS.declinesPerSecond);
  /** Offers dropped unanswered, for tests and diagnostics. */
  dropped = 0;

  /** A new session offered by `buddy`: true to answer it, false to drop it without a word. */
  admitSession(buddy: string): boolean {
    let bucket = this.#perBuddy.get(buddy);
    if (!bucket) {
      if (this.#perBuddy.size >= ANSWER_LIMITS.maxTracked) {
        const oldest = this.#perBuddy.keys().next().value;
        if (oldest !== undefined) this.#perBuddy.delete(oldest);
      }
      bucket = new Bucket(ANSWER_LIMITS.sessionsPerBuddy, 1 / ANSWER_LIMITS.perBuddyRefillSeconds);
      this.#perBuddy.set(buddy, bucket);
    }
    const ok = bucket.tryTake() && this.#all.tryTake();
    if (!ok) this.dropped++;
    return ok;
  }

  /** A session of `buddy` became a connection: not abuse, so it does not count. */
  connected(buddy: string): void {
    this.#perBuddy.get(buddy)?.giveBack();
    this.#all.giveBack();
  }

  admitDecline(): boolean {
    const ok = this.#declines.tryTake();
    if (!ok) this.dropped++;
    return ok;
  }
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** IPv4 addresses a LAN behind a NAT uses: RFC 1918, carrier-grade NAT (RFC 6598), link-local. */
const INSIDE_V4 = new BlockList();
INSIDE_V4.addSubnet('10.0.0.0', 8, 'ipv4');
INSIDE_V4.addSubnet('172.16.0.0', 12, 'ipv4');
INSIDE_V4.addSubnet('192.168.0.0', 16, 'ipv4');
INSIDE_V4.addSubnet('100.64.0.0', 10, 'ipv4');
INSIDE_V4.addSubnet('169.254.0.0', 16, 'ipv4');

const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  const family = isIP(h);
  return family !== 0 && LOOPBACK.check(h, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The offered addresses this device will probe: one unicast host each (punch-target.ts), loopback only
 * when the server itself is on loopback (else a loopback address can only be a trick to reach our own
 * services), and fitting the scope: a `local` offer names IPv4 addresses a NAT'd LAN uses (IPv6 LANs use
 * global addresses, so any unicast IPv6 fits), a `global` one no link-local address.
 */
export function probeTargetsFor(
  scope: SignalBody['scope'],
  addresses: readonly Endpoint[],
  serverOnLoopback: boolean,
): Endpoint[] {
  return addresses.filter((a) => {
    if (!isProbeTarget(a)) return false;
    const family = isIP(a.host) === 4 ? 'ipv4' : 'ipv6';
    if (LOOPBACK.check(a.host, family)) return serverOnLoopback;
    if (scope === 'local') return family === 'ipv6' || INSIDE_V4.check(a.host, 'ipv4');
    return !LINK_LOCAL.check(a.host, family);
  });
}
