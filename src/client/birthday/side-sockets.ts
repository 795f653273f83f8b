import type { UdxSocket } from 'udx-native';
import { type Endpoint, formatEndpoint } from '../../protocol/index.js';
import type { PeerSocket, SideSocket } from '../peer-socket.js';
import { decodePunchPacket, encodePunchPacket, type PunchRole } from '../punch-packet.js';
import { isProbeTarget } from '../punch-target.js';
import { type BirthdayOptions, DEFAULT_BIRTHDAY_OPTIONS } from './options.js';

/** A side socket that heard the buddy, and the buddy's address as it heard it. */
export interface BirthdayWin {
  via: UdxSocket;
  from: Endpoint;
}

/**
 * The hard side of a birthday punch: many sockets, each sending a probe to the easy side's global
 * address, so our NAT holds as many mappings (each its own random public port) open towards it. The
 * easy side probes random ports of our public IP; the first probe that lands on one of them is
 * acknowledged and answered with a probe of ours, whose ack proves the pair. That socket carries
 * the stream; the others are closed at once. Only packets from the offered hosts count.
 */
export class SideSockets {
  private readonly options: BirthdayOptions;
  private readonly sockets: SideSocket[] = [];
  private readonly heard = new Map<string, UdxSocket>();
  private readonly targets: Endpoint[] = [];
  private packets = 0;
  private rounds = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private won: BirthdayWin | undefined;
  private waiters: ((win: BirthdayWin) => void)[] = [];
  private kept: UdxSocket | undefined;

  constructor(
    private readonly socket: PeerSocket,
    private readonly session: string,
    private readonly role: PunchRole,
    options: Partial<BirthdayOptions> = {},
  ) {
    this.options = { ...DEFAULT_BIRTHDAY_OPTIONS, ...options };
  }

  /** Opens the sockets and sends their first round to the easy side's IPv4 global addresses. */
  start(targets: readonly Endpoint[]): boolean {
    for (const t of targets)
      if (isProbeTarget(t) && /^\d+\.\d+\.\d+\.\d+$/.test(t.host)) this.targets.push(t);
    if (this.targets.length === 0) return false;
    this.startedAt = Date.now();
    for (let i = 0; i < this.options.sockets; i++) {
      const side: SideSocket = this.socket.openSideSocket((packet, from) =>
        this.onPacket(side, packet, from),
      );
      this.sockets.push(side);
    }
    this.round();
    this.timer = setInterval(() => this.round(), this.options.socketIntervalMs);
    return true;
  }

  /** The first side socket whose probe the buddy acknowledged. */
  winner(): Promise<BirthdayWin> {
    if (this.won) return Promise.resolve(this.won);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The side socket that heard `from` (for the answerer's stream firewall), if any. */
  heardOn(from: Endpoint): UdxSocket | undefined {
    return this.heard.get(formatEndpoint(from));
  }

  get sent(): number {
    return this.packets;
  }

  /**
   * Stops sending and closes every side socket but `keep` (the one carrying the stream), which is
   * closed when that stream closes.
   */
  stop(keep?: { via: UdxSocket; stream: { once(event: 'close', f: () => void): unknown } }): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.waiters = [];
    if (keep) this.kept = keep.via;
    for (const side of this.sockets) {
      if (side.raw === this.kept) {
        keep?.stream.once('close', () => void side.close());
        continue;
      }
      void side.close();
    }
  }

  private budgetLeft(): boolean {
    return this.packets < this.options.socketMaxPackets && Date.now() - this.startedAt < this.options.maxMs;
  }

  private round(): void {
    const probe = this.packet('probe');
    const ttl =
      this.rounds++ === 0 && this.options.socketOpeningTtl > 0 ? this.options.socketOpeningTtl : undefined;
    for (const side of this.sockets) {
      for (const t of this.targets) {
        if (!this.budgetLeft()) {
          clearInterval(this.timer);
          return;
        }
        side.send(probe, t, ttl);
        this.packets++;
      }
    }
  }

  private packet(kind: 'probe' | 'ack'): Buffer {
    return encodePunchPacket({ kind, scope: 'global', session: this.session, role: this.role });
  }

  private onPacket(side: SideSocket, packet: Buffer, from: Endpoint): void {
    const p = decodePunchPacket(packet);
    if (!p || p.session !== this.session || p.scope !== 'global' || p.role === this.role) return;
    // Only the hosts the buddy offered: the easy side's NAT keeps its port, but accept a moved one.
    if (!this.targets.some((t) => t.host === from.host)) return;
    const k = formatEndpoint(from);
    if (!this.heard.has(k)) this.heard.set(k, side.raw);
    if (p.kind === 'probe') {
      if (!this.budgetLeft()) return;
      // Ack, and probe back at once: its ack is the proof (no waiting for the next round).
      side.send(this.packet('ack'), from);
      side.send(this.packet('probe'), from);
      this.packets += 2;
      return;
    }
    if (this.won) return;
    this.won = { via: side.raw, from };
    for (const w of this.waiters) w(this.won);
    this.waiters = [];
  }
}
