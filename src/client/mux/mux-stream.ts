import { Duplex } from 'node:stream';
import { type CloseCode, MuxError } from './errors.js';

/** What a stream needs from its mux: send frames, know whether the carrier wants a pause. */
export interface StreamLink {
  sendData(stream: MuxStream, chunk: Buffer): void;
  sendEnd(stream: MuxStream): void;
  sendReset(stream: MuxStream, code: CloseCode): void;
  sendCredit(stream: MuxStream, bytes: number): void;
  /** Resolves when the carrying stream can take more (its 'drain'), at once when it can. */
  whenWritable(): Promise<void>;
  forget(stream: MuxStream): void;
  readonly maxDataBytes: number;
}

/**
 * One stream of a mux: a Node Duplex with its own flow control. The sender may have at most
 * `window` bytes unacknowledged; the receiver returns credit as its reader takes the bytes, so a
 * stream nobody reads stops its sender without holding up the other streams.
 */
export class MuxStream extends Duplex {
  /** Why the stream ended, once it has: see the close reasons table in README.md. */
  closeCode: CloseCode | undefined;
  /** Bytes we may still send. */
  private credit: number;
  /** Bytes the peer may still send before we grant more. */
  private receiveRoom: number;
  /** Bytes delivered that the reader made room for, not yet granted back. */
  private owed = 0;
  /** Bytes delivered while the reader's buffer was full: granted once it reads. */
  private held = 0;
  private waitingCredit: (() => void) | undefined;
  private remoteEnded = false;
  private localEnded = false;

  constructor(
    private readonly link: StreamLink,
    /** The stream's number in the opener's space. */
    readonly id: number,
    /** This side opened the stream. */
    readonly local: boolean,
    private readonly window: number,
  ) {
    super({ allowHalfOpen: true, highWaterMark: Math.min(window, 64 * 1024) });
    this.credit = window;
    this.receiveRoom = window;
    // Resets and closes reach the app as 'error' if it listens, and always as closeCode and 'close':
    // a peer resetting one stream must not take the host process down with an unhandled 'error'.
    this.on('error', () => {});
  }

  // ---- from the mux ----

  /** @internal */
  onData(chunk: Buffer): void {
    if (this.remoteEnded || this.destroyed) return;
    if (chunk.length > this.receiveRoom) {
      this.fail('PROTOCOL_ERROR', 'the peer sent past its flow-control window', true);
      return;
    }
    this.receiveRoom -= chunk.length;
    if (this.push(chunk)) {
      this.owed += chunk.length;
      if (this.owed >= this.window / 4) this.grant();
    } else this.held += chunk.length;
  }

  /** @internal */
  onEnd(): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    this.push(null);
  }

  /** @internal */
  onCredit(bytes: number): void {
    this.credit += bytes;
    const waiting = this.waitingCredit;
    this.waitingCredit = undefined;
    waiting?.();
  }

  /** @internal The peer reset the stream, or the mux closed under it. */
  fail(code: CloseCode, message: string, tellPeer = false): void {
    if (this.destroyed) return;
    if (tellPeer) this.link.sendReset(this, code);
    this.closeCode = code;
    this.destroy(new MuxError(code, message));
  }

  // ---- Duplex ----

  override _read(): void {
    this.owed += this.held;
    this.held = 0;
    if (this.owed > 0) this.grant();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.sendAll(chunk).then(
      () => callback(),
      (error: Error) => callback(error),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.localEnded = true;
    this.link.sendEnd(this);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const waiting = this.waitingCredit;
    this.waitingCredit = undefined;
    waiting?.();
    if (!this.closeCode) {
      const clean = this.remoteEnded && this.localEnded;
      this.closeCode = clean ? 'PEER_CLOSED' : 'LOCAL_CLOSE';
      // Our app gave up on a stream that was still open: the peer hears a reset, not a silent hang.
      if (!clean) this.link.sendReset(this, 'STREAM_RESET');
    }
    this.link.forget(this);
    callback(error);
  }

  private grant(): void {
    const bytes = this.owed;
    this.owed = 0;
    this.receiveRoom += bytes;
    this.link.sendCredit(this, bytes);
  }

  private async sendAll(chunk: Buffer): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      if (this.destroyed) throw new MuxError(this.closeCode ?? 'LOCAL_CLOSE', 'stream closed');
      if (this.credit <= 0) {
        await new Promise<void>((resolve) => {
          this.waitingCredit = resolve;
        });
        continue;
      }
      const n = Math.min(this.credit, this.link.maxDataBytes, chunk.length - at);
      this.credit -= n;
      this.link.sendData(this, chunk.subarray(at, at + n));
      at += n;
    }
    await this.link.whenWritable();
  }
}
