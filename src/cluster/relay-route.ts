import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import WebSocket, { type RawData } from 'ws';
import { ERROR_CODES, type ErrorCode, ProtocolError } from '../protocol/errors.js';
import type { ClusterBus, RelayOpenMessage, RelayTicketMessage } from './bus.js';

/** Above this many bytes queued towards one side, the other side is not read (as in the relay hub). */
const HIGH_WATER_BYTES = 1024 * 1024;
/** How long a node waits for the relaying node's ticket. */
const TICKET_WAIT_MS = 3000;

export interface RelayRouteOptions {
  redis: Redis;
  bus: ClusterBus;
  prefix: string;
  nodeId: string;
  ticketTtlMs: number;
}

/**
 * Relay across nodes (SPEC §4.3, §4.8): both buddies of a session must meet on one relay hub. The first
 * node to open a session claims it in Redis; the other node asks that node for its user's ticket over
 * the bus, and later forwards its user's relay WebSocket there frame by frame. The relaying node alone
 * pairs, counts and limits the session, so the caps are the same as on one node.
 */
export class RelayRoute {
  readonly #o: RelayRouteOptions;
  readonly #waiting = new Map<string, (m: RelayTicketMessage) => void>();
  /** Tickets this node handed out for another node's hub: ticket → that node. */
  readonly #remote = new Map<string, { node: string; expires: number }>();

  constructor(options: RelayRouteOptions) {
    this.#o = options;
  }

  /** This node's URL for the others (relay sockets are forwarded to it); refreshed with the registry. */
  async advertise(url: string, ttlMs: number): Promise<void> {
    await this.#o.redis.set(this.#urlKey(this.#o.nodeId), url, 'PX', ttlMs);
  }

  /** The WebSocket URL a node advertised, if it is alive. */
  async urlOf(node: string): Promise<string | undefined> {
    return (await this.#o.redis.get(this.#urlKey(node))) ?? undefined;
  }

  /** The node that relays this session: the first to claim it. */
  async ownerOf(a: string, b: string, session: string): Promise<string> {
    const key = `${this.#o.prefix}relay:${a < b ? `${a} ${b}` : `${b} ${a}`} ${session}`;
    const claimed = await this.#o.redis.set(key, this.#o.nodeId, 'PX', this.#o.ticketTtlMs, 'NX');
    if (claimed === 'OK') return this.#o.nodeId;
    return (await this.#o.redis.get(key)) ?? this.#o.nodeId;
  }

  /** Asks the relaying node for `user`'s ticket; remembers where it is, for the forward. */
  async remoteTicket(node: string, user: string, buddy: string, session: string): Promise<string> {
    const requestId = randomBytes(8).toString('hex');
    const reply = new Promise<RelayTicketMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(requestId);
        reject(new ProtocolError('UNAVAILABLE', 'the relaying node did not answer'));
      }, TICKET_WAIT_MS);
      this.#waiting.set(requestId, (m) => {
        clearTimeout(timer);
        this.#waiting.delete(requestId);
        resolve(m);
      });
    });
    await this.#o.bus.toNode(node, {
      kind: 'relay.open',
      requestId,
      replyTo: this.#o.nodeId,
      user,
      buddy,
      session,
    });
    const m = await reply;
    if (!m.ticket) {
      const code = (ERROR_CODES as readonly string[]).includes(m.error ?? '')
        ? (m.error as ErrorCode)
        : 'INTERNAL';
      throw new ProtocolError(code, 'the relaying node refused the session');
    }
    this.#prune();
    this.#remote.set(m.ticket, { node, expires: Date.now() + this.#o.ticketTtlMs });
    return m.ticket;
  }

  /** On the relaying node: a ticket for another node's user (consent was checked there). */
  async answer(m: RelayOpenMessage, open: () => string): Promise<void> {
    let reply: RelayTicketMessage;
    try {
      reply = { kind: 'relay.ticket', requestId: m.requestId, ticket: open() };
    } catch (err) {
      const code = err instanceof ProtocolError ? err.code : 'INTERNAL';
      reply = { kind: 'relay.ticket', requestId: m.requestId, error: code };
    }
    await this.#o.bus.toNode(m.replyTo, reply);
  }

  onTicket(m: RelayTicketMessage): void {
    this.#waiting.get(m.requestId)?.(m);
  }

  /** The relaying node's URL when `ticket` was handed out here for another node's hub (single use). */
  async forwardTarget(ticket: string): Promise<string | undefined> {
    const entry = this.#remote.get(ticket);
    if (!entry || entry.expires < Date.now()) return undefined;
    this.#remote.delete(ticket);
    return this.urlOf(entry.node);
  }

  #prune(): void {
    const now = Date.now();
    for (const [ticket, e] of this.#remote) if (e.expires < now) this.#remote.delete(ticket);
  }

  #urlKey(node: string): string {
    return `${this.#o.prefix}node-url:${node}`;
  }
}

/**
 * Joins a client's relay socket to the relaying node's: frames pass verbatim both ways (ciphertext,
 * and the hub's one relay.paired text frame), closes pass on with their code, and a side whose peer
 * has too much unsent is paused, so that the forward adds no unbounded buffer.
 */
export function forwardRelaySocket(client: WebSocket, targetUrl: string): void {
  const upstream = new WebSocket(targetUrl, { maxPayload: 1024 * 1024 * 1024 });
  const held: Array<{ data: RawData; isBinary: boolean }> = [];
  const pipe = (from: WebSocket, to: WebSocket) => {
    from.on('message', (data, isBinary) => {
      if (to.readyState !== WebSocket.OPEN) {
        if (from === client) held.push({ data, isBinary });
        return;
      }
      to.send(data, { binary: isBinary });
      if (to.bufferedAmount > HIGH_WATER_BYTES) {
        from.pause();
        const wait = setInterval(() => {
          if (to.bufferedAmount <= HIGH_WATER_BYTES || to.readyState !== WebSocket.OPEN) {
            clearInterval(wait);
            from.resume();
          }
        }, 5);
      }
    });
  };
  pipe(client, upstream);
  pipe(upstream, client);
  upstream.on('open', () => {
    for (const m of held.splice(0)) upstream.send(m.data, { binary: m.isBinary });
  });
  const closeBoth = (code: number, reason: Buffer) => {
    const valid = code >= 1000 && code !== 1005 && code !== 1006 ? code : 1011;
    for (const s of [client, upstream])
      if (s.readyState === WebSocket.OPEN || s.readyState === WebSocket.CONNECTING) {
        if (s.readyState === WebSocket.OPEN) s.close(valid, reason);
        else s.terminate();
      }
  };
  client.on('close', closeBoth);
  upstream.on('close', closeBoth);
  client.on('error', () => {});
  upstream.on('error', () => closeBoth(1011, Buffer.from('relaying node unreachable')));
}
