import { randomInt } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { PeerSocket } from '../peer-socket.js';
import { encodePunchPacket, type PunchRole } from '../punch-packet.js';
import { isProbeTarget } from '../punch-target.js';
import { type BirthdayOptions, DEFAULT_BIRTHDAY_OPTIONS, NAT_PORT_MAX, NAT_PORT_MIN } from './options.js';

const NOT_A_NAT = new BlockList();
NOT_A_NAT.addSubnet('127.0.0.0', 8, 'ipv4');
NOT_A_NAT.addSubnet('169.254.0.0', 16, 'ipv4');

/** Timer tick of the probe loop: probes go out in small bursts, rate-limited on average. */
const TICK_MS = 10;

/**
 * The easy side of a birthday punch: probes from our main socket to random ports of the hard side's
 * public IP (only that IP, the one its own offer carries), each port at most once, until one of
 * its side sockets answers (the caller stops us on the main puncher's first ack), or the packet or
 * time cap. Replies reach the main socket, whose Puncher acknowledges them and learns the source.
 */
export class PortProbe {
  private readonly options: BirthdayOptions;
  private readonly tried = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private sentCount = 0;

  constructor(
    private readonly socket: PeerSocket,
    private readonly session: string,
    private readonly role: PunchRole,
    options: Partial<BirthdayOptions> = {},
  ) {
    this.options = { ...DEFAULT_BIRTHDAY_OPTIONS, ...options };
  }

  /**
   * Starts probing `ip`; false (and nothing sent) when it is no unicast IPv4 address we may probe.
   * Never loopback or link-local: a NAT's public IP is neither, and a buddy offering one would have
   * us sweep the ports of our own host or link.
   */
  start(ip: string): boolean {
    if (
      isIP(ip) !== 4 ||
      NOT_A_NAT.check(ip, 'ipv4') ||
      !isProbeTarget({ host: ip, port: NAT_PORT_MIN }) ||
      !this.socket.canReach({ host: ip, port: 1 })
    )
      return false;
    const packet = encodePunchPacket({
      kind: 'probe',
      scope: 'global',
      session: this.session,
      role: this.role,
    });
    const perTick = Math.max(1, Math.round((this.options.probesPerSecond * TICK_MS) / 1000));
    const cap = Math.min(this.options.maxProbes, NAT_PORT_MAX - NAT_PORT_MIN + 1);
    this.startedAt = Date.now();
    const tick = () => {
      for (let i = 0; i < perTick; i++) {
        if (this.sentCount >= cap || Date.now() - this.startedAt >= this.options.maxMs) {
          this.stop();
          return;
        }
        this.socket.send(packet, { host: ip, port: this.freshPort() });
        this.sentCount++;
      }
    };
    tick();
    this.timer = setInterval(tick, TICK_MS);
    return true;
  }

  get sent(): number {
    return this.sentCount;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private freshPort(): number {
    for (;;) {
      const port = randomInt(NAT_PORT_MIN, NAT_PORT_MAX + 1);
      if (this.tried.has(port)) continue;
      this.tried.add(port);
      return port;
    }
  }
}
