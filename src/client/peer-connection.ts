import { Socket } from 'node:net';
import type { PathAttempt } from './attempts.js';
import { Mux, type MuxOptions, type RequestHandler } from './mux/mux.js';
import type { MuxStream } from './mux/mux-stream.js';
import type { PathName } from './options.js';
import { type RelayBudget, relayBudgetOf } from './relay-path.js';
import { Session, type SessionOptions } from './session/session.js';

export interface ConnectionFacts {
  path: PathName;
  remoteUser: string;
  /** The buddy's verified Ed25519 public key, hex. */
  remoteKey: string;
  /** Every path tried, in the order they finished. */
  attempts: PathAttempt[];
  /** From the start of connect (or of the answer) to a verified, chosen path. */
  connectMs: number;
  /** Which side opened the connection. */
  initiator: boolean;
}

/** What carries the Noise stream: kernel TCP (LAN), UDX over our UDP socket (LAN or internet), the relay's WebSocket. */
export type TransportName = 'tcp' | 'udx' | 'websocket';

/** How long a cleanly ending connection may take to hear the peer's last acknowledgement. */
const CLOSE_GRACE_MS = 2000;

/**
 * A verified, end-to-end encrypted stream to a buddy, as a plain Node Duplex, with the facts of how
 * it came to be. It is a session (session/session.ts): carried by one path after another (LAN,
 * internet, relay), `path` names the one carrying it now and a 'path' event tells each move.
 */
export class PeerConnection extends Session {
  readonly remoteUser: string;
  readonly remoteKey: string;
  readonly attempts: PathAttempt[];
  connectMs: number;

  constructor(session: SessionOptions, facts: Omit<ConnectionFacts, 'path' | 'initiator'>) {
    super(session);
    this.remoteUser = facts.remoteUser;
    this.remoteKey = facts.remoteKey;
    this.attempts = facts.attempts;
    this.connectMs = facts.connectMs;
    // A 'stream' or 'message' listener on the connection makes its mux and hears the mux's events;
    // without one, the mux refuses the peer's streams as before.
    this.on('newListener', (event: string | symbol) => {
      if (event !== 'stream' && event !== 'message') return;
      if (this.forwarding.has(event)) return;
      this.forwarding.add(event);
      const mux = this.mux();
      if (event === 'stream') mux.on('stream', (stream) => this.emit('stream', stream));
      else mux.on('message', (value) => this.emit('message', value));
    });
  }

  private muxed: Mux | undefined;
  private readonly forwarding = new Set<string>();

  /**
   * Several streams, messages and requests over this connection: a Mux on it (mux/), made on first
   * use (`openStream`, `send`, `request`, `handle`, or a 'stream'/'message' listener) and from then
   * the only reader of the connection's bytes. Both sides use it; `options` count when it is made.
   */
  mux(options?: MuxOptions): Mux {
    this.muxed ??= new Mux(this, options);
    return this.muxed;
  }

  /** A new stream to the buddy, with its own flow control; no server round trip. */
  openStream(): MuxStream {
    return this.mux().openStream();
  }

  /** One message (JSON value or bytes) to the buddy, who gets it as a 'message' event. */
  send(value: unknown): void {
    this.mux().send(value);
  }

  /** A request; resolves with the buddy's reply (what its `handle` function returns). */
  request(value: unknown, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<unknown> {
    return this.mux().request(value, options);
  }

  /** Answers the buddy's requests. */
  handle(handler: RequestHandler | undefined): void {
    this.mux().handle(handler);
  }

  /** The relay's budget (server-told at relay.open) while the relay carries the session; otherwise undefined. */
  get relayBudget(): RelayBudget | undefined {
    const stream = this.carrierStream;
    return this.path === 'relay' && stream ? relayBudgetOf(stream) : undefined;
  }

  /** The transport under the path carrying the session now. */
  get transport(): TransportName {
    const raw = (this.carrierStream as { rawStream?: unknown } | undefined)?.rawStream;
    return raw instanceof Socket ? 'tcp' : this.path === 'relay' ? 'websocket' : 'udx';
  }

  /** Resolves once the connection is closed; an ending connection gets `graceMs` to finish first. */
  async settle(graceMs: number = CLOSE_GRACE_MS): Promise<void> {
    if (this.closed) return;
    const closed = new Promise<void>((resolve) => this.once('close', () => resolve()));
    if (!this.writableEnded && !this.readableEnded) this.destroy();
    // Nobody reads any more: drain what is left so the end can arrive and the stream close itself.
    else this.resume();
    const timer = setTimeout(() => this.destroy(), graceMs);
    timer.unref();
    await closed;
    clearTimeout(timer);
  }
}
