import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import type NoiseSecretStream from '@hyperswarm/secret-stream';
import { type Endpoint, normaliseIp } from '../../protocol/index.js';
import { ClientError, TimeoutError } from '../errors.js';

/**
 * Direct paths over kernel TCP where no NAT stands in the way: peers on one LAN, or an answerer on a
 * public address. The answerer listens on a port of its own for one session and the initiator dials
 * it: the kernel does
 * segmentation, acknowledgement and flow control, which a datagram per JavaScript callback cannot
 * match. The bytes are still carried by the Noise stream and proven against the pinned key; a
 * socket is only a candidate until its handshake verifies.
 */

/**
 * Whether the offerer can dial us over TCP: on the LAN (no NAT between us; local addresses only go
 * to a buddy judged behind the same NAT, §4.4), or over the internet when a global address we offer
 * is one of our own interfaces' (a public host, most IPv6): behind a NAT a SYN cannot punch.
 */
export function dialableOverTcp(
  scope: 'local' | 'global',
  offered: readonly Endpoint[],
  interfaces: readonly { host: string }[],
): boolean {
  if (scope === 'local') return true;
  const own = new Set(interfaces.map((i) => normaliseIp(i.host)));
  return offered.some((a) => own.has(normaliseIp(a.host)));
}

/** Handshakes in progress at once on one session's listener: enough for a few interfaces, not a flood. */
const MAX_PENDING_HANDSHAKES = 4;
/** Sockets one session's listener takes in all before it stops accepting. */
const MAX_ACCEPTED = 16;

/** Small writes (a chat line, a receipt) leave at once; bulk writes are large frames anyway. */
function tuneSocket(socket: Socket): Socket {
  socket.setNoDelay(true);
  return socket;
}

/** A per-session TCP listener on the answering side. */
export class TcpAnswerPort {
  private accepted = 0;
  private pending = 0;
  private closed = false;
  private giveUp: ((error: Error) => void) | undefined;
  /**
   * Sockets accepted before `firstVerified` was called: the buddy dials as soon as the server
   * forwards our answer, which can be before the server's acknowledgement of that answer reaches
   * us (measured: LAN tries hung until their timeout in ~1 of 10 connects on a loaded machine).
   * Their first bytes wait in the socket until the handshake reads them.
   */
  private readonly early: Socket[] = [];
  private onConnection: ((socket: Socket) => void) | undefined;

  private constructor(private readonly server: Server) {}

  private take(socket: Socket): void {
    socket.on('error', () => {});
    if (this.onConnection) this.onConnection(socket);
    else if (!this.closed && this.early.length < MAX_PENDING_HANDSHAKES) this.early.push(socket);
    else socket.destroy();
  }

  /** Listens on `host` (the peer socket's bind address: `::` is dual-stack) on a free port. */
  static open(host: string): Promise<TcpAnswerPort> {
    return new Promise((resolve, reject) => {
      // Half-open: a peer's FIN ends only its direction, so a reply after the request's end still flows.
      const server = createServer({ noDelay: true, allowHalfOpen: true });
      server.once('error', reject);
      server.listen({ port: 0, host, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', () => {});
        const port = new TcpAnswerPort(server);
        server.on('connection', (socket: Socket) => port.take(socket));
        resolve(port);
      });
    });
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('TCP answer port not listening');
    return address.port;
  }

  /**
   * Resolves with the first accepted socket whose handshake `verify` proves; sockets that fail it
   * (a stranger on the LAN, a port scan) are dropped and the listener keeps waiting, until
   * `timeoutMs` or `close()`.
   */
  firstVerified(
    verify: (socket: Socket) => Promise<NoiseSecretStream>,
    timeoutMs: number,
  ): Promise<NoiseSecretStream> {
    return new Promise((resolve, reject) => {
      let won = false;
      const timer = setTimeout(() => this.close(), timeoutMs);
      timer.unref();
      this.giveUp = (error) => {
        clearTimeout(timer);
        if (!won) reject(error);
      };
      this.onConnection = (socket: Socket) => {
        if (won || this.pending >= MAX_PENDING_HANDSHAKES || this.accepted >= MAX_ACCEPTED) {
          socket.destroy();
          return;
        }
        this.accepted++;
        this.pending++;
        verify(tuneSocket(socket)).then(
          (secret) => {
            this.pending--;
            if (won) {
              secret.destroy();
              return;
            }
            won = true;
            this.close();
            resolve(secret);
          },
          () => {
            this.pending--;
            socket.destroy();
          },
        );
      };
      for (const socket of this.early.splice(0)) this.onConnection(socket);
    });
  }

  /** Stops listening (a verified socket lives on) and ends a pending `firstVerified`. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const socket of this.early.splice(0)) socket.destroy();
    this.giveUp?.(new ClientError('TCP_FAILED', 'no TCP connection proved the buddy'));
  }
}

/**
 * Dials every candidate at once and keeps the first that connects; the others are destroyed before
 * any handshake starts, so the answerer sees one handshake per session and both ends agree on it.
 */
export function dialFirst(candidates: Endpoint[], timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (candidates.length === 0) {
      reject(new ClientError('NO_ADDRESSES', 'no TCP address to dial'));
      return;
    }
    const sockets = new Set<Socket>();
    let done = false;
    let failures = 0;
    let lastError: Error | undefined;
    const finish = (error: Error | undefined, winner?: Socket) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      for (const s of sockets) if (s !== winner) s.destroy();
      if (winner) resolve(winner);
      else reject(error);
    };
    const onAbort = () => finish(new ClientError('ABORTED', 'attempt cancelled'));
    const timer = setTimeout(() => finish(new TimeoutError('TCP connect', timeoutMs)), timeoutMs);
    timer.unref();
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    for (const c of candidates) {
      const socket = tcpConnect({ host: c.host, port: c.port, noDelay: true, allowHalfOpen: true });
      sockets.add(socket);
      socket.once('connect', () => finish(undefined, tuneSocket(socket)));
      socket.on('error', (error: Error) => {
        lastError = error;
        if (++failures === candidates.length) {
          finish(new ClientError('TCP_FAILED', `no address took a TCP connection: ${lastError.message}`));
        }
      });
    }
  });
}
