import { isIP } from 'node:net';
import type { UdxSocket } from 'udx-native';
import type { Endpoint } from '../../protocol/index.js';
import type { PeerSocket } from '../peer-socket.js';
import type { PunchRole } from '../punch-packet.js';
import type { BirthdayOptions } from './options.js';
import { PortProbe } from './port-probe.js';
import { type BirthdayWin, SideSockets } from './side-sockets.js';
import type { PairStrategy } from './strategy.js';

/** The path a direct try found: the buddy's address, and our side socket when not the main one. */
export interface FoundPath {
  from: Endpoint;
  via?: UdxSocket;
}

/**
 * The birthday half of an internet try, beside the main socket's plain punching (punch.ts): the
 * side sockets when we are the hard side, the random-port probes when the buddy is. Nothing at all
 * for the other strategies.
 */
export class BirthdayPunch {
  private sides: SideSockets | undefined;
  private probe: PortProbe | undefined;

  constructor(
    private readonly socket: PeerSocket,
    private readonly session: string,
    private readonly role: PunchRole,
    private readonly options: Partial<BirthdayOptions> = {},
  ) {}

  /**
   * Starts what `strategy` asks for towards the buddy's offered global addresses; the random
   * probes go only to the first IPv4 one's host (the public IP its STUN answer named).
   */
  start(strategy: PairStrategy, buddyAddresses: readonly Endpoint[]): void {
    if (strategy === 'open-sockets') {
      this.sides = new SideSockets(this.socket, this.session, this.role, this.options);
      this.sides.start(buddyAddresses);
    } else if (strategy === 'probe-ports') {
      const ip = buddyAddresses.find((a) => isIP(a.host) === 4)?.host;
      if (ip === undefined) return;
      this.probe = new PortProbe(this.socket, this.session, this.role, this.options);
      this.probe.start(ip);
    }
  }

  /**
   * The first path proven by an ack: the main puncher's (whose first ack also ends the random
   * probes) or a side socket's.
   */
  firstPath(mainAck: Promise<Endpoint>): Promise<FoundPath> {
    const main = mainAck.then((from) => {
      this.probe?.stop();
      return { from };
    });
    if (!this.sides) return main;
    const side = this.sides.winner().then((w: BirthdayWin) => ({ from: w.from, via: w.via }));
    return Promise.race([main, side]);
  }

  /** Stops the probes when the main puncher heard back (answerer: it waits on no ack itself). */
  stopProbesOn(mainAck: Promise<Endpoint>): void {
    void mainAck.then(() => this.probe?.stop());
  }

  /** The side socket that heard `from`, for the answerer's stream firewall. */
  heardOn(from: Endpoint): UdxSocket | undefined {
    return this.sides?.heardOn(from);
  }

  /** Birthday datagrams sent: side sockets' and random probes. */
  get sent(): number {
    return (this.sides?.sent ?? 0) + (this.probe?.sent ?? 0);
  }

  /** Stops everything; the side socket carrying `keep`'s stream stays open until that stream closes. */
  stop(keep?: { via: UdxSocket; stream: { once(event: 'close', f: () => void): unknown } }): void {
    this.probe?.stop();
    this.sides?.stop(keep);
  }
}
