import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type NoiseSecretStream from '@hyperswarm/secret-stream';
import type { PathAttempt } from './attempts.js';
import type { PathName } from './options.js';
import type { Handover } from './secure-channel.js';

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
  /** On the relay path: what the server said the session may carry (absent from older servers). */
  relayBudget?: { bytes: number; bytesPerSecond: number } | undefined;
}

/** What carries the Noise stream: kernel TCP (LAN), UDX over our UDP socket (LAN or internet), the relay's WebSocket. */
export type TransportName = 'tcp' | 'udx' | 'websocket';

/** How long a cleanly ending connection may take to hear the peer's last acknowledgement. */
const CLOSE_GRACE_MS = 2000;

/**
 * A verified, end-to-end encrypted stream to a buddy, as a plain Node Duplex, with the facts of how
 * it came to be. Works the same whichever path (LAN, internet, relay) carries it.
 */
export class PeerConnection extends Duplex implements ConnectionFacts {
  readonly path: PathName;
  readonly remoteUser: string;
  readonly remoteKey: string;
  readonly attempts: PathAttempt[];
  readonly connectMs: number;
  readonly initiator: boolean;
  readonly relayBudget: { bytes: number; bytesPerSecond: number } | undefined;
  readonly transport: TransportName;
  private gotEnd = false;
  private finished = false;

  constructor(
    private readonly secret: NoiseSecretStream,
    facts: ConnectionFacts,
    handover?: Handover,
  ) {
    // Room for a few of the transfer's 1 MiB chunks each way, so reads and writes overlap.
    super({ allowHalfOpen: true, highWaterMark: 4 * 1024 * 1024 });
    this.path = facts.path;
    this.remoteUser = facts.remoteUser;
    this.remoteKey = facts.remoteKey;
    this.attempts = facts.attempts;
    this.connectMs = facts.connectMs;
    this.initiator = facts.initiator;
    this.relayBudget = facts.relayBudget;
    this.transport =
      secret.rawStream instanceof Socket ? 'tcp' : facts.path === 'relay' ? 'websocket' : 'udx';
    const held = handover?.take();
    for (const chunk of held?.chunks ?? []) this.push(chunk);
    if (held?.ended) {
      this.gotEnd = true;
      this.push(null);
    }
    secret.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) secret.pause();
    });
    secret.on('end', () => {
      this.gotEnd = true;
      this.push(null);
    });
    secret.on('error', (error: Error) => this.destroy(error));
    secret.on('close', () => {
      if (!this.gotEnd) this.destroy();
      else if (!this.writableEnded) this.end();
    });
    secret.resume();
  }

  override _read(): void {
    this.secret.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.secret.write(chunk)) {
      callback();
      return;
    }
    const done = () => {
      this.secret.off('drain', done);
      this.secret.off('close', done);
      callback();
    };
    this.secret.once('drain', done);
    this.secret.once('close', done);
  }

  /** Waits until the secret stream has flushed its end, so the peer sees a clean end of stream. */
  override _final(callback: (error?: Error | null) => void): void {
    const done = () => {
      this.secret.off('finish', done);
      this.secret.off('close', done);
      this.finished = true;
      callback();
    };
    this.secret.once('finish', done);
    this.secret.once('close', done);
    this.secret.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Both directions ended cleanly: the secret stream closes by itself once the peer has acked.
    // Destroying it now would reset the transport under the peer's last bytes, so wait (bounded).
    if (error || !(this.gotEnd && this.finished) || this.secret.destroyed) {
      this.secret.destroy();
      callback(error);
      return;
    }
    const done = () => {
      clearTimeout(timer);
      this.secret.destroy();
      callback(null);
    };
    const timer = setTimeout(done, CLOSE_GRACE_MS);
    timer.unref();
    this.secret.once('close', done);
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
