import type { Readable } from 'node:stream';
import { TransferError } from './errors.js';

/** Bytes held here before the stream is paused: a few of the transfer's 1 MiB chunks. */
const QUEUE_BYTES = 4 * 1024 * 1024;

/**
 * Reads exact byte counts from a stream without ending it early: the framing of the application
 * messages on a peer connection (headers, file bodies, digests) needs "exactly N bytes, then more".
 * It takes the stream's chunks as they come ('data') into a queue of its own and hands them out
 * as slices: `read()` on a paused stream would concatenate everything buffered into a new buffer,
 * a copy of every byte of a file (measured: ~0.5 ns/B of the receiver's CPU). An async iterator is
 * not used because it destroys a duplex when its readable side ends, cutting off our last writes.
 */
export class StreamReader {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private pausedByUs = false;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly readable: Readable) {
    readable.on('data', (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (buffer.length === 0) return;
      this.queue.push(buffer);
      this.queued += buffer.length;
      if (this.queued >= QUEUE_BYTES && !readable.isPaused()) {
        this.pausedByUs = true;
        readable.pause();
      }
      this.notify();
    });
    readable.once('end', () => {
      this.ended = true;
      this.notify();
    });
    readable.once('close', () => {
      this.ended = true;
      this.notify();
    });
    readable.once('error', (error: Error) => {
      this.failure = error;
      this.notify();
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves once a chunk is queued, the stream has ended, or it failed. */
  private async filled(): Promise<void> {
    while (this.queue.length === 0) {
      if (this.failure) throw this.failure;
      if (this.ended || this.readable.readableEnded || this.readable.destroyed) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Up to `max` bytes, as soon as any are there; an empty buffer at the end of the stream. */
  async readSome(max: number): Promise<Buffer> {
    await this.filled();
    const head = this.queue[0];
    if (head === undefined) return Buffer.alloc(0);
    let out: Buffer;
    if (head.length <= max) {
      out = head;
      this.queue.shift();
    } else {
      out = head.subarray(0, max);
      this.queue[0] = head.subarray(max);
    }
    this.queued -= out.length;
    if (this.pausedByUs && this.queued < QUEUE_BYTES) {
      this.pausedByUs = false;
      this.readable.resume();
    }
    return out;
  }

  async readExact(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      const part = await this.readSome(n - have);
      if (part.length === 0) throw new TransferError(`the peer closed after ${have} of ${n} bytes`);
      parts.push(part);
      have += part.length;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, n);
  }
}
