import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import UDX, { type UdxAddress, type UdxSocket, type UdxStream } from 'udx-native';
import { type Endpoint, normaliseIp } from '../protocol/index.js';
import {
  type BindingAnswer,
  createBindingRequest,
  isStunMessage,
  readBindingAnswer,
} from '../stun/client.js';
import type { BirthdayOptions } from './birthday/options.js';
import { TimeoutError } from './errors.js';
import { isPunchPacket } from './punch-packet.js';

/** RFC 8489 §6.2.1: the first retransmission after RTO, each next one after twice the previous. */
const STUN_FIRST_RTO_MS = 250;

type PacketListener = (packet: Buffer, from: Endpoint) => void;

interface BindOptions {
  tcp?: boolean;
  birthday?: Partial<BirthdayOptions>;
}

/**
 * One more IPv4 socket on the peer socket's UDX instance (birthday punching, src/client/birthday):
 * its own NAT mapping per destination, and it can carry a UDX peer stream like the main socket.
 */
export interface SideSocket {
  readonly raw: UdxSocket;
  /** `ttl` sets this datagram's IP TTL (birthday sockets open their own NAT with a low one). */
  send(packet: Uint8Array, to: Endpoint, ttl?: number): void;
  close(): Promise<void>;
}

/** Binding both families on one port: a port free for IPv4 may be taken for IPv6; try a few. */
const DUAL_BIND_TRIES = 8;

/**
 * The client's one UDP port. STUN, hole-punching probes and the UDX peer streams all leave from
 * it, so the global address STUN reports (S101–S102) is the address the buddy's punches reach.
 * UDX consumes its own packets; everything else arrives here as a socket 'message'.
 *
 * Without a host the port is held by two sockets of one UDX instance, an IPv4 one and an
 * IPv6-only one, rather than one dual-stack socket: on a dual-stack socket Linux sends to IPv4
 * (mapped) addresses with the IPv4 TTL, which libuv's per-send TTL does not set (it sets the IPv6
 * hop limit), and punching needs low-TTL IPv4 datagrams (punch.ts).
 */
export class PeerSocket {
  private readonly udx: UDX;
  private readonly sockets: UdxSocket[];
  private readonly stunWaiters = new Set<(packet: Buffer, from: Endpoint) => void>();
  private readonly punchListeners = new Set<PacketListener>();
  private readonly usedStreamIds = new Set<number>();
  private readonly streams = new Set<UdxStream>();
  private readonly sideSockets = new Set<UdxSocket>();

  /** Whether direct answers may offer a TCP port too (PeerSocketOptions.tcp). */
  readonly tcpAnswers: boolean;
  /** Bounds of birthday punching from this socket (PeerSocketOptions.birthday). */
  readonly birthday: Partial<BirthdayOptions>;

  private constructor(udx: UDX, sockets: UdxSocket[], options: BindOptions) {
    this.udx = udx;
    this.sockets = sockets;
    this.tcpAnswers = options.tcp ?? true;
    this.birthday = options.birthday ?? {};
    for (const socket of sockets) socket.on('message', (packet, from) => this.onMessage(packet, from));
  }

  /**
   * Binds IPv4 and IPv6 (IPv6-only) on one port unless a host is given; IPv4 alone where the
   * machine has no IPv6. With a host, one socket on that host (`::` is then dual-stack).
   */
  static bind(port = 0, host?: string, options: BindOptions = {}): PeerSocket {
    const udx = new UDX();
    if (host !== undefined) {
      const socket = udx.createSocket();
      socket.bind(port, host);
      return new PeerSocket(udx, [socket], options);
    }
    for (let attempt = 1; ; attempt++) {
      const v4 = udx.createSocket();
      v4.bind(port, '0.0.0.0');
      const v6 = udx.createSocket({ ipv6Only: true });
      try {
        v6.bind(v4.address()?.port ?? port, '::');
        return new PeerSocket(udx, [v4, v6], options);
      } catch (error) {
        void v6.close();
        const taken = /EADDRINUSE/.test(String(error));
        if (!taken) return new PeerSocket(udx, [v4], options); // no IPv6 here
        void v4.close();
        if (port !== 0 || attempt >= DUAL_BIND_TRIES) throw error;
      }
    }
  }

  /** The IPv6 socket's address when there is one (family 6: IPv6 reachable), else the IPv4 one. */
  get address(): UdxAddress {
    const socket = this.sockets.find((s) => s.address()?.family === 6) ?? this.sockets[0];
    const address = socket?.address();
    if (!address) throw new Error('peer socket not bound');
    return address;
  }

  get port(): number {
    return this.address.port;
  }

  /** Whether this socket can send to the endpoint's family (an IPv4-only socket cannot reach IPv6). */
  canReach(endpoint: Endpoint): boolean {
    return this.socketFor(endpoint.host) !== undefined;
  }

  /** Sends one datagram; `ttl` sets its IP TTL (IPv6 hop limit) for this datagram only. */
  send(packet: Uint8Array, to: Endpoint, ttl?: number): void {
    const socket = this.socketFor(to.host);
    if (!socket || socket.closing) return;
    socket.trySend(packet, to.port, to.host, ttl);
  }

  onPunchPacket(listener: PacketListener): () => void {
    this.punchListeners.add(listener);
    return () => this.punchListeners.delete(listener);
  }

  /**
   * An extra IPv4 socket on a free port; only punch packets reach `onPunch` (UDX takes its own).
   * Closed by the caller, or with the peer socket.
   */
  openSideSocket(onPunch: PacketListener): SideSocket {
    const raw = this.udx.createSocket();
    raw.bind(0, '0.0.0.0');
    this.sideSockets.add(raw);
    raw.on('message', (packet: Buffer, from: UdxAddress) => {
      if (isPunchPacket(packet)) onPunch(packet, { host: normaliseIp(from.host), port: from.port });
    });
    return {
      raw,
      send: (packet, to, ttl) => {
        if (!raw.closing && isIP(to.host) === 4) raw.trySend(packet, to.port, to.host, ttl);
      },
      close: async () => {
        this.sideSockets.delete(raw);
        if (!raw.closing) await raw.close();
      },
    };
  }

  /**
   * A UDX stream with a fresh id; `firewall` returns true to drop a first packet from an unknown
   * remote (`via` is the socket it arrived on: the main one or a side socket).
   */
  createStream(firewall?: (port: number, host: string, via: UdxSocket) => boolean): UdxStream {
    let id = randomInt(1, 2 ** 32 - 1);
    while (this.usedStreamIds.has(id)) id = randomInt(1, 2 ** 32 - 1);
    this.usedStreamIds.add(id);
    const stream = firewall
      ? this.udx.createStream(id, {
          firewall: (socket, port, host) => firewall(port, normaliseIp(host), socket),
        })
      : this.udx.createStream(id);
    this.streams.add(stream);
    stream.once('close', () => {
      this.usedStreamIds.delete(id);
      this.streams.delete(stream);
    });
    return stream;
  }

  /** Connects the stream to `to`, from `via` when given (a side socket), else the main socket. */
  connectStream(stream: UdxStream, remoteId: number, to: Endpoint, via?: UdxSocket): void {
    const socket = via ?? this.socketFor(to.host);
    if (!socket) throw new Error(`peer socket cannot reach ${to.host}`);
    stream.connect(socket, remoteId, to.port, to.host);
  }

  /** S101–S102: one Binding transaction to the STUN server, retransmitted per RFC 8489 §6.2.1. */
  async stunQuery(server: Endpoint, timeoutMs: number): Promise<Endpoint> {
    return (await this.stunBinding(server, timeoutMs)).mapped;
  }

  /**
   * One Binding transaction with what RFC 5780 adds: the answer's OTHER-ADDRESS, and with
   * `changePort` the request that the answer leave from the server's other port (it is taken from
   * whatever source it arrives: that is the point of the test).
   */
  stunBinding(
    server: Endpoint,
    timeoutMs: number,
    options: { changePort?: boolean } = {},
  ): Promise<BindingAnswer> {
    const { transactionId, packet } = createBindingRequest(options);
    return new Promise((resolve, reject) => {
      let rto = STUN_FIRST_RTO_MS;
      let retransmit: NodeJS.Timeout;
      const schedule = () => {
        retransmit = setTimeout(() => {
          this.send(packet, server);
          rto *= 2;
          schedule();
        }, rto);
      };
      const done = setTimeout(() => {
        finish();
        reject(new TimeoutError(`STUN server ${server.host}:${server.port}`, timeoutMs));
      }, timeoutMs);
      const waiter = (reply: Buffer) => {
        const answer = readBindingAnswer(reply, transactionId);
        if (!answer) return;
        finish();
        const mapped = { host: normaliseIp(answer.mapped.host), port: answer.mapped.port };
        resolve(answer.otherAddress ? { mapped, otherAddress: answer.otherAddress } : { mapped });
      };
      const finish = () => {
        clearTimeout(retransmit);
        clearTimeout(done);
        this.stunWaiters.delete(waiter);
      };
      this.stunWaiters.add(waiter);
      this.send(packet, server);
      schedule();
    });
  }

  /**
   * Hairpinning: a datagram sent to our own global address comes back to us through the NAT.
   * A STUN request of ours with a fresh transaction id is the probe: nobody else answers it.
   */
  hairpins(global: Endpoint, timeoutMs: number): Promise<boolean> {
    const { transactionId, packet } = createBindingRequest();
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const waiter = (reply: Buffer) => {
        if (reply.length >= 20 && reply.subarray(8, 20).equals(transactionId)) finish(true);
      };
      const finish = (result: boolean) => {
        clearTimeout(timer);
        this.stunWaiters.delete(waiter);
        resolve(result);
      };
      this.stunWaiters.add(waiter);
      this.send(packet, global);
    });
  }

  interfaces(): { host: string; family: number; internal: boolean }[] {
    return this.udx.networkInterfaces();
  }

  /** Closes every peer stream of this socket (udx waits for them before it unbinds), then the socket. */
  async close(): Promise<void> {
    if (this.sockets.every((s) => s.closing)) return;
    for (const stream of this.streams) stream.destroy();
    const side = [...this.sideSockets].filter((s) => !s.closing);
    this.sideSockets.clear();
    await Promise.all([...this.sockets, ...side].map((s) => s.close()));
  }

  /**
   * The socket that sends to `host`: IPv6 by the IPv6 one; IPv4 by the IPv4 one, or by the one
   * socket bound to `::` on an explicit host (dual-stack; the pair never lacks its IPv4 socket).
   */
  private socketFor(host: string): UdxSocket | undefined {
    const family = (s: UdxSocket) => s.address()?.family;
    if (isIP(host) !== 4) return this.sockets.find((s) => family(s) === 6);
    return this.sockets.find((s) => family(s) === 4) ?? this.sockets.find((s) => family(s) === 6);
  }

  private onMessage(packet: Buffer, from: UdxAddress): void {
    const source = { host: normaliseIp(from.host), port: from.port };
    if (isStunMessage(packet)) {
      for (const waiter of [...this.stunWaiters]) waiter(packet, source);
      return;
    }
    if (isPunchPacket(packet)) {
      for (const listener of [...this.punchListeners]) listener(packet, source);
    }
  }
}
