import { type Endpoint, formatEndpoint } from '../protocol/index.js';
import type { PeerSocket } from './peer-socket.js';
import { decodePunchPacket, encodePunchPacket, type PunchRole, type PunchScope } from './punch-packet.js';
import { isProbeTarget } from './punch-target.js';

const key = (e: Endpoint) => formatEndpoint(e);

/** How one punch try behaves; every bound is an option (issue 10's guard rails). */
export interface PunchOptions {
  /** Interval between probe rounds to every candidate. */
  intervalMs: number;
  /**
   * IP TTL of the answerer's opening probes on the internet; 0 never lowers it. The opening probe
   * must leave our own NAT (home router, and one more NAT in front of it) and expire before the
   * buddy's: a Linux NAT without an input filter that receives a probe before its own client has
   * sent confirms a conntrack entry holding the reply tuple, and then maps its client's outgoing
   * flow to another port, so neither side's probes ever match. 3 passes two routers and dies at
   * the third; the buddy's NAT is farther on the internet (and five router hops away in the lab).
   */
  openingTtl: number;
  /**
   * The answerer sends only opening probes until it hears the initiator's first probe, which
   * proves the initiator's NAT holds its mapping towards us, and at most this long (then full TTL,
   * for a NAT of ours that the opening TTL did not reach: a carrier NAT three or more hops out
   * then costs this hold, not the connection).
   */
  holdMs: number;
  /** Most punch datagrams (probes and acks) one try sends. */
  maxPackets: number;
  /** Nothing is sent this long after the try began. */
  maxMs: number;
  /** Most candidates learned from packets (sources that were not offered). */
  maxLearned: number;
}

export const DEFAULT_PUNCH_OPTIONS: PunchOptions = {
  intervalMs: 40,
  openingTtl: 3,
  holdMs: 1000,
  maxPackets: 300,
  maxMs: 6000,
  maxLearned: 8,
};

/** Punch datagrams one try sent, by kind: what a lab test holds against the packet budget. */
export interface PunchCounts {
  probes: number;
  /** Of `probes`, those sent with the opening (low) TTL. */
  openingProbes: number;
  acks: number;
}

/**
 * Simultaneous probing from both sides (S106/S124): each side sends probes to every candidate
 * address of the other and acknowledges every probe it hears. A probe opens the sender's NAT
 * mapping towards the peer; the first ack proves a two-way path to that address. A probe or an
 * ack from an address that was not offered (a NAT that changed the port) becomes a candidate too.
 *
 * On the internet the two sides' first packets are ordered: the answerer, who starts first, opens
 * its NAT with low-TTL probes that die on the way, and sends at full TTL only once the initiator's
 * probe got through; so no probe reaches a NAT before that NAT's own client has sent towards it.
 */
export class Puncher {
  /** Sources that sent this session's packets: the only ones allowed to open its peer stream. */
  private readonly heard = new Set<string>();
  private readonly candidates = new Map<string, Endpoint>();
  private readonly acked = new Set<string>();
  private readonly options: PunchOptions;
  private readonly counts: PunchCounts = { probes: 0, openingProbes: 0, acks: 0 };
  private learned = 0;
  private startedAt: number | undefined;
  private heardProbe = false;
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => void) | undefined;
  private ackWaiters: ((from: Endpoint) => void)[] = [];
  private firstAcked: Endpoint | undefined;

  constructor(
    private readonly socket: PeerSocket,
    private readonly session: string,
    private readonly scope: PunchScope,
    private readonly role: PunchRole,
    options: number | Partial<PunchOptions>,
  ) {
    const given = typeof options === 'number' ? { intervalMs: options } : options;
    this.options = { ...DEFAULT_PUNCH_OPTIONS, ...given };
  }

  /** Hears and acknowledges the buddy's probes before we know its addresses (they may come first). */
  listen(): void {
    this.startedAt ??= Date.now();
    this.unlisten ??= this.socket.onPunchPacket((packet, from) => this.onPacket(packet, from));
  }

  /** Probes every candidate now and every interval until stopped or out of budget. */
  start(candidates: Endpoint[]): void {
    this.listen();
    for (const c of candidates) {
      if (this.socket.canReach(c) && isProbeTarget(c)) this.candidates.set(key(c), c);
    }
    this.probe();
    this.timer ??= setInterval(() => this.probe(), this.options.intervalMs);
  }

  /** True when `from` sent a packet of this session. */
  hasHeard(from: Endpoint): boolean {
    return this.heard.has(key(from));
  }

  /** The first address that acknowledged a probe: a proven two-way path (not yet a proven peer). */
  firstAck(): Promise<Endpoint> {
    if (this.firstAcked) return Promise.resolve(this.firstAcked);
    return new Promise((resolve) => this.ackWaiters.push(resolve));
  }

  /** What this try has sent so far. */
  get sent(): Readonly<PunchCounts> {
    return { ...this.counts };
  }

  stop(): void {
    clearInterval(this.timer);
    this.unlisten?.();
    this.ackWaiters = [];
  }

  /** The answerer's opening phase: low TTL until the initiator is heard or the hold is over. */
  private opening(): boolean {
    const { openingTtl, holdMs } = this.options;
    if (this.scope !== 'global' || this.role !== 'answerer' || openingTtl <= 0 || this.heardProbe)
      return false;
    return Date.now() - (this.startedAt ?? Date.now()) < holdMs;
  }

  /** Out of packets or time: nothing more is sent (the listener still hears late acks). */
  private exhausted(): boolean {
    const used = this.counts.probes + this.counts.acks;
    const late = Date.now() - (this.startedAt ?? Date.now()) >= this.options.maxMs;
    if (used < this.options.maxPackets && !late) return false;
    clearInterval(this.timer);
    return true;
  }

  private probe(): void {
    const packet = encodePunchPacket({
      kind: 'probe',
      scope: this.scope,
      session: this.session,
      role: this.role,
    });
    const ttl = this.opening() ? this.options.openingTtl : undefined;
    for (const [k, c] of this.candidates) {
      if (this.acked.has(k)) continue;
      if (this.exhausted()) return;
      this.socket.send(packet, c, ttl);
      this.counts.probes++;
      if (ttl !== undefined) this.counts.openingProbes++;
    }
  }

  /** A source not offered becomes a candidate, within the bound on learned ones. */
  private learn(k: string, from: Endpoint): void {
    if (this.candidates.has(k) || this.learned >= this.options.maxLearned) return;
    if (!this.socket.canReach(from)) return;
    this.learned++;
    this.candidates.set(k, from);
  }

  private onPacket(packet: Buffer, from: Endpoint): void {
    const p = decodePunchPacket(packet);
    if (!p || p.session !== this.session || p.scope !== this.scope || !isProbeTarget(from)) return;
    // Our own probe, come back through an address we share with the buddy's LAN: not the buddy.
    if (p.role === this.role) return;
    const k = key(from);
    this.heard.add(k);
    this.learn(k, from);
    if (p.kind === 'probe') {
      this.heardProbe = true;
      if (this.exhausted()) return;
      this.socket.send(
        encodePunchPacket({ kind: 'ack', scope: this.scope, session: this.session, role: this.role }),
        from,
      );
      this.counts.acks++;
      return;
    }
    this.acked.add(k);
    if (this.firstAcked) return;
    this.firstAcked = from;
    for (const waiter of this.ackWaiters) waiter(from);
    this.ackWaiters = [];
  }
}
