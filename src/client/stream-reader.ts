import type { Readable } from 'node:stream';
import { TransferError } from './errors.js';

/**
 * Reads exact byte counts from a stream without ending it early: the framing of the application
 * messages on a peer connection (headers, file bodies, digests) needs "exactly N bytes, then more".
 * It pulls with `read()` rather than an async iterator, because the iterator destroys a duplex when
 * its readable side ends, which would cut off our own last writes.
 */
export class StreamReader {
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;
  private failure: Error | undefined;

  constructor(private readonly readable: Readable) {
    readable.once('end', () => {
      this.ended = true;
    });
    readable.once('error', (error: Error) => {
      this.failure = error;
    });
  }

  private next(): Promise<Buffer | null> {
    const chunk = this.readable.read() as Buffer | null;
    if (chunk !== null) return Promise.resolve(chunk);
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended || this.readable.readableEnded || this.readable.destroyed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        this.readable.off('readable', onReadable);
        this.readable.off('end', onEnd);
        this.readable.off('close', onEnd);
        this.readable.off('error', onError);
      };
      const onReadable = () => {
        const data = this.readable.read() as Buffer | null;
        if (data === null) return;
        cleanup();
        resolve(data);
      };
      const onEnd = () => {
        cleanup();
        resolve(null);
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      this.readable.on('readable', onReadable);
      this.readable.once('end', onEnd);
      this.readable.once('close', onEnd);
      this.readable.once('error', onError);
    });
  }

  /** Up to `max` bytes, as soon as any are there; an empty buffer at the end of the stream. */
  async readSome(max: number): Promise<Buffer> {
    if (this.pending.length === 0) {
      const chunk = await this.next();
      if (chunk === null) return Buffer.alloc(0);
      this.pending = chunk;
    }
    const out = this.pending.subarray(0, max);
    this.pending = this.pending.subarray(out.length);
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
    return Buffer.concat(parts, n);
  }
}
