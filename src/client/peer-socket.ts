import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import UDX, { type UdxAddress, type UdxSocket, type UdxStream } from 'udx-native';
import { type Endpoint, normaliseIp } from '../protocol/index.js';
import { createBindingRequest, isStunMessage, readBindingResponse } from '../stun/client.js';
import { TimeoutError } from './errors.js';
import { isPunchPacket } from './punch-packet.js';

/** RFC 8489 §6.2.1: the first retransmission after RTO, each next one after twice the previous. */
const STUN_FIRST_RTO_MS = 250;

type PacketListener = (packet: Buffer, from: Endpoint) => void;

/**
 * The client's one UDP socket. STUN, hole-punching probes and the UDX peer streams all leave from
 * it, so the global address STUN reports (S101–S102) is the address the buddy's punches reach.
 * UDX consumes its own packets; everything else arrives here as a socket 'message'.
 */
export class PeerSocket {
  private readonly udx: UDX;
  private readonly socket: UdxSocket;
  private readonly stunWaiters = new Set<(packet: Buffer, from: Endpoint) => void>();
  private readonly punchListeners = new Set<PacketListener>();
  private readonly usedStreamIds = new Set<number>();
  private readonly streams = new Set<UdxStream>();

  /** Whether direct answers may offer a TCP port too (PeerSocketOptions.tcp). */
  readonly tcpAnswers: boolean;

  private constructor(udx: UDX, socket: UdxSocket, tcp: boolean) {
    this.udx = udx;
    this.socket = socket;
    this.tcpAnswers = tcp;
    socket.on('message', (packet, from) => this.onMessage(packet, from));
  }

  /** Binds dual-stack `::` unless a host is given (udx falls back to `0.0.0.0` without IPv6). */
  static bind(port = 0, host?: string, options: { tcp?: boolean } = {}): PeerSocket {
    const udx = new UDX();
    const socket = udx.createSocket();
    socket.bind(port, host);
    return new PeerSocket(udx, socket, options.tcp ?? true);
  }

  get address(): UdxAddress {
    const address = this.socket.address();
    if (!address) throw new Error('peer socket not bound');
    return address;
  }

  get port(): number {
    return this.address.port;
  }

  /** Whether this socket can send to the endpoint's family (an IPv4-only socket cannot reach IPv6). */
  canReach(endpoint: Endpoint): boolean {
    return this.address.family === 6 || isIP(endpoint.host) === 4;
  }

  send(packet: Uint8Array, to: Endpoint): void {
    if (!this.canReach(to) || this.socket.closing) return;
    this.socket.trySend(packet, to.port, to.host);
  }

  onPunchPacket(listener: PacketListener): () => void {
    this.punchListeners.add(listener);
    return () => this.punchListeners.delete(listener);
  }

  /** A UDX stream with a fresh id; `firewall` returns true to drop a first packet from an unknown remote. */
  createStream(firewall?: (port: number, host: string) => boolean): UdxStream {
    let id = randomInt(1, 2 ** 32 - 1);
    while (this.usedStreamIds.has(id)) id = randomInt(1, 2 ** 32 - 1);
    this.usedStreamIds.add(id);
    const stream = firewall
      ? this.udx.createStream(id, { firewall: (_socket, port, host) => firewall(port, normaliseIp(host)) })
      : this.udx.createStream(id);
    this.streams.add(stream);
    stream.once('close', () => {
      this.usedStreamIds.delete(id);
      this.streams.delete(stream);
    });
    return stream;
  }

  connectStream(stream: UdxStream, remoteId: number, to: Endpoint): void {
    stream.connect(this.socket, remoteId, to.port, to.host);
  }

  /** S101–S102: one Binding transaction to the STUN server, retransmitted per RFC 8489 §6.2.1. */
  stunQuery(server: Endpoint, timeoutMs: number): Promise<Endpoint> {
    const { transactionId, packet } = createBindingRequest();
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
        const mapped = readBindingResponse(reply, transactionId);
        if (!mapped) return;
        finish();
        resolve({ host: normaliseIp(mapped.host), port: mapped.port });
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

  interfaces(): { host: string; family: number; internal: boolean }[] {
    return this.udx.networkInterfaces();
  }

  /** Closes every peer stream of this socket (udx waits for them before it unbinds), then the socket. */
  async close(): Promise<void> {
    if (this.socket.closing) return;
    for (const stream of this.streams) stream.destroy();
    await this.socket.close();
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
