import { randomBytes } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import { ProtocolError } from '../protocol/errors.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import type { ServerOptions } from './config.js';
import type { Logger } from './log.js';
import type { ServerMetrics } from './metrics.js';
import { TokenBucket } from './rate-limit.js';

/** Path prefix of relay WebSockets on the control port: `/relay/<ticket>`. */
export const RELAY_PATH_PREFIX = '/relay/';

/** The one text frame the relay sends, on each side, once both buddies have joined. */
export const RELAY_PAIRED_FRAME = JSON.stringify({ v: PROTOCOL_VERSION, event: 'relay.paired' });

/**
 * Close codes of relay sockets; the reason text starts with the protocol's error code where one fits,
 * so a client can switch on it.
 */
export const RELAY_CLOSE = {
  peerLeft: { code: 1000, reason: 'peer left' },
  shutdown: { code: 1001, reason: 'server shutting down' },
  early: { code: 1008, reason: 'BAD_REQUEST: data before relay.paired' },
  buddyRemoved: { code: 4003, reason: 'NOT_BUDDY: buddy removed' },
  limit: { code: 4008, reason: 'RELAY_LIMIT: session byte cap reached' },
  expired: { code: 4010, reason: 'ticket expired before the buddy joined' },
  replaced: { code: 4011, reason: 'replaced by a newer relay.open' },
} as const;

/** Above this many bytes waiting to go out to one side, the other side is not read (backpressure). */
const HIGH_WATER_BYTES = 1024 * 1024;

interface Side {
  user: string;
  ticket: string;
  socket?: WebSocket;
  /** Set while the rate limit holds this side back. */
  rateTimer?: NodeJS.Timeout;
  /** Set while the other side's socket has too much unsent. */
  backpressured: boolean;
  /** Frames read but not yet forwarded. */
  held: Buffer[];
}

interface RelaySession {
  key: string;
  users: [string, string];
  sides: Map<string, Side>;
  paired: boolean;
  bytes: number;
  rate: TokenBucket;
  expiry?: NodeJS.Timeout;
}

type Close = { code: number; reason: string };

/**
 * SPEC §4.3, the relay of last resort. Two buddies each ask for the same session (relay.open) and get a
 * ticket each; each opens a WebSocket on /relay/<ticket>. When both have joined, both get relay.paired
 * and from then on binary frames pass verbatim from one to the other: the clients encrypt end to end,
 * so the server forwards ciphertext only. Per-session byte cap and rate limit; the rate limit delays
 * reading (TCP backpressure) rather than dropping, since a dropped frame would break the stream.
 */
export class RelayHub {
  readonly #sessions = new Map<string, RelaySession>();
  readonly #tickets = new Map<string, { session: RelaySession; user: string }>();

  constructor(
    private readonly options: ServerOptions,
    private readonly metrics: ServerMetrics,
    private readonly log: Logger,
  ) {}

  /** Issues `user`'s ticket for the relay session with `buddy`; consent is checked by the caller. */
  open(user: string, buddy: string, sessionId: string): string {
    const key = sessionKey(user, buddy, sessionId);
    let session = this.#sessions.get(key);
    if (session?.paired) {
      // A client that opens a paired session again has lost it: start over.
      this.#end(session, RELAY_CLOSE.replaced);
      session = undefined;
    }
    if (!session) {
      if (this.#sessionsOf(user) >= this.options.relaySessionsPerUser)
        throw new ProtocolError('RELAY_LIMIT', 'too many relay sessions');
      session = {
        key,
        users: [user, buddy],
        sides: new Map(),
        paired: false,
        bytes: 0,
        rate: new TokenBucket(this.options.relayBytesPerSecond, this.options.relayBytesPerSecond),
      };
      this.#sessions.set(key, session);
      this.metrics.relaySessions.inc();
    }
    const previous = session.sides.get(user);
    if (previous) {
      this.#tickets.delete(previous.ticket);
      previous.socket?.close(RELAY_CLOSE.replaced.code, RELAY_CLOSE.replaced.reason);
    }
    const ticket = randomBytes(32).toString('base64url');
    session.sides.set(user, { user, ticket, backpressured: false, held: [] });
    this.#tickets.set(ticket, { session, user });
    this.#armExpiry(session);
    return ticket;
  }

  hasTicket(ticket: string): boolean {
    return this.#tickets.has(ticket);
  }

  /** Binds a relay WebSocket to its ticket (single use); pairs the session when both sides are in. */
  attach(ticket: string, socket: WebSocket): void {
    const entry = this.#tickets.get(ticket);
    if (!entry) {
      socket.close(RELAY_CLOSE.expired.code, RELAY_CLOSE.expired.reason);
      return;
    }
    this.#tickets.delete(ticket);
    const { session, user } = entry;
    const side = session.sides.get(user);
    if (!side || side.ticket !== ticket) {
      socket.close(RELAY_CLOSE.replaced.code, RELAY_CLOSE.replaced.reason);
      return;
    }
    side.socket = socket;
    socket.on('message', (data, isBinary) => this.#forward(session, side, data, isBinary));
    socket.on('close', () => {
      if (this.#sessions.get(session.key) === session) this.#end(session, RELAY_CLOSE.peerLeft);
    });
    socket.on('error', () => {});
    const sockets = [...session.sides.values()].map((s) => s.socket);
    if (session.sides.size === 2 && sockets.every((s) => s !== undefined)) {
      session.paired = true;
      clearTimeout(session.expiry);
      for (const s of sockets) s?.send(RELAY_PAIRED_FRAME);
      this.log.debug({ users: session.users }, 'relay paired');
    }
  }

  /** Cuts every relay session between two users (buddy removed). */
  closePair(a: string, b: string): void {
    const prefix = pairKey(a, b);
    for (const session of [...this.#sessions.values()])
      if (session.key.startsWith(prefix)) this.#end(session, RELAY_CLOSE.buddyRemoved);
  }

  closeAll(): void {
    for (const session of [...this.#sessions.values()]) this.#end(session, RELAY_CLOSE.shutdown);
  }

  /** A frame from one side: counted against the cap on arrival, then sent on or queued while held back. */
  #forward(session: RelaySession, from: Side, data: RawData, isBinary: boolean): void {
    if (!isBinary) return;
    if (!session.paired) {
      this.#end(session, RELAY_CLOSE.early);
      return;
    }
    const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (session.bytes + chunk.length > this.options.relayMaxBytes) {
      this.#end(session, RELAY_CLOSE.limit);
      return;
    }
    session.bytes += chunk.length;
    from.held.push(chunk);
    this.#flush(session, from);
  }

  /**
   * Sends what `from` has queued while neither the rate limit nor the receiver's backlog holds it
   * back; while held back, the sender's socket is not read (frames already read wait in `held`).
   */
  #flush(session: RelaySession, from: Side): void {
    const to = [...session.sides.values()].find((s) => s !== from)?.socket;
    if (!to || this.#sessions.get(session.key) !== session) return;
    while (from.held.length > 0 && !from.rateTimer && !from.backpressured) {
      const chunk = from.held.shift() as Buffer;
      this.metrics.relayedBytes.inc(chunk.length);
      to.send(chunk, { binary: true }, () => {
        if (from.backpressured && to.bufferedAmount < HIGH_WATER_BYTES / 2) {
          from.backpressured = false;
          this.#flush(session, from);
        }
      });
      if (to.bufferedAmount >= HIGH_WATER_BYTES) from.backpressured = true;
      const waitMs = session.rate.takeWithDebt(chunk.length);
      if (waitMs > 0) {
        from.rateTimer = setTimeout(() => {
          from.rateTimer = undefined;
          this.#flush(session, from);
        }, waitMs);
      }
    }
    const holdBack = from.held.length > 0 || from.rateTimer !== undefined || from.backpressured;
    if (holdBack && !from.socket?.isPaused) from.socket?.pause();
    if (!holdBack && from.socket?.isPaused) from.socket.resume();
  }

  #armExpiry(session: RelaySession): void {
    clearTimeout(session.expiry);
    session.expiry = setTimeout(
      () => this.#end(session, RELAY_CLOSE.expired),
      this.options.relayTicketTtlSeconds * 1000,
    );
    session.expiry.unref();
  }

  #end(session: RelaySession, why: Close): void {
    if (this.#sessions.get(session.key) !== session) return;
    this.#sessions.delete(session.key);
    this.metrics.relaySessions.dec();
    clearTimeout(session.expiry);
    for (const side of session.sides.values()) {
      this.#tickets.delete(side.ticket);
      clearTimeout(side.rateTimer);
      const s = side.socket;
      if (s && (s.readyState === s.OPEN || s.readyState === s.CONNECTING)) s.close(why.code, why.reason);
    }
    // A cut is worth an operator's attention (a transfer died there); a normal end is not.
    if (why === RELAY_CLOSE.limit)
      this.log.warn(
        { users: session.users, bytes: session.bytes, cap: this.options.relayMaxBytes, reason: why.reason },
        'relay session cut: byte cap reached',
      );
    else
      this.log.debug(
        { users: session.users, bytes: session.bytes, reason: why.reason },
        'relay session ended',
      );
  }

  #sessionsOf(user: string): number {
    let n = 0;
    // Only sessions the user asked for: a buddy cannot use up someone else's quota.
    for (const s of this.#sessions.values()) if (s.sides.has(user)) n++;
    return n;
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\n${b}\n` : `${b}\n${a}\n`;
}

function sessionKey(a: string, b: string, session: string): string {
  return `${pairKey(a, b)}${session}`;
}
