import { type Endpoint, formatEndpoint } from '../protocol/index.js';
import type { PeerSocket } from './peer-socket.js';
import { decodePunchPacket, encodePunchPacket, type PunchRole, type PunchScope } from './punch-packet.js';

const key = (e: Endpoint) => formatEndpoint(e);

/**
 * Simultaneous probing from both sides (S106/S124): each side sends probes to every candidate
 * address of the other and acknowledges every probe it hears. A probe opens the sender's NAT
 * mapping towards the peer; the first ack proves a two-way path to that address. A probe from an
 * address that was not offered (a NAT that changed the port) becomes a candidate too.
 */
export class Puncher {
  /** Sources that sent this session's probes: the only ones allowed to open its peer stream. */
  private readonly heard = new Set<string>();
  private readonly candidates = new Map<string, Endpoint>();
  private readonly acked = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => void) | undefined;
  private ackWaiters: ((from: Endpoint) => void)[] = [];
  private firstAcked: Endpoint | undefined;

  constructor(
    private readonly socket: PeerSocket,
    private readonly session: string,
    private readonly scope: PunchScope,
    private readonly role: PunchRole,
    private readonly intervalMs: number,
  ) {}

  /** Hears and acknowledges the buddy's probes before we know its addresses (they may come first). */
  listen(): void {
    this.unlisten ??= this.socket.onPunchPacket((packet, from) => this.onPacket(packet, from));
  }

  /** Probes every candidate now and every interval until stopped. */
  start(candidates: Endpoint[]): void {
    this.listen();
    for (const c of candidates) if (this.socket.canReach(c)) this.candidates.set(key(c), c);
    this.probe();
    this.timer ??= setInterval(() => this.probe(), this.intervalMs);
  }

  /** True when `from` sent a probe of this session. */
  hasHeard(from: Endpoint): boolean {
    return this.heard.has(key(from));
  }

  /** The first address that acknowledged a probe: a proven two-way path (not yet a proven peer). */
  firstAck(): Promise<Endpoint> {
    if (this.firstAcked) return Promise.resolve(this.firstAcked);
    return new Promise((resolve) => this.ackWaiters.push(resolve));
  }

  stop(): void {
    clearInterval(this.timer);
    this.unlisten?.();
    this.ackWaiters = [];
  }

  private probe(): void {
    const packet = encodePunchPacket({
      kind: 'probe',
      scope: this.scope,
      session: this.session,
      role: this.role,
    });
    for (const [k, c] of this.candidates) if (!this.acked.has(k)) this.socket.send(packet, c);
  }

  private onPacket(packet: Buffer, from: Endpoint): void {
    const p = decodePunchPacket(packet);
    if (!p || p.session !== this.session || p.scope !== this.scope) return;
    // Our own probe, come back through an address we share with the buddy's LAN: not the buddy.
    if (p.role === this.role) return;
    const k = key(from);
    if (p.kind === 'probe') {
      this.heard.add(k);
      if (!this.candidates.has(k)) this.candidates.set(k, from);
      this.socket.send(
        encodePunchPacket({ kind: 'ack', scope: this.scope, session: this.session, role: this.role }),
        from,
      );
      return;
    }
    this.acked.add(k);
    if (this.firstAcked) return;
    this.firstAcked = from;
    for (const waiter of this.ackWaiters) waiter(from);
    this.ackWaiters = [];
  }
}
