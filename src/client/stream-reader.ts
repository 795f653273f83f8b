import type { Readable } from 'node:stream';
import { TransferError } from './errors.js';

/**
 * Reads exact byte counts from a stream without ending it early: the framing of the application
 * messages on a peer connection (headers, file bodies, digests) needs "exactly N bytes, then more".
 */
export class StreamReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);

  constructor(readable: Readable) {
    this.iterator = readable[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** Up to `max` bytes, as soon as any are there; an empty buffer at the end of the stream. */
  async readSome(max: number): Promise<Buffer> {
    if (this.pending.length === 0) {
      const next = await this.iterator.next();
      if (next.done) return Buffer.alloc(0);
      this.pending = Buffer.from(next.value);
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
