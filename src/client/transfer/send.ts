import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import type { Duplex, Readable } from 'node:stream';
import { TransferError } from '../errors.js';
import { SessionError } from '../session/errors.js';
import { StreamReader } from '../stream-reader.js';
import { CHUNK_BYTES, writeBodyEnd, writeCancel, writeChunk } from './body.js';
import { TransferCancelledError, TransferDeclinedError } from './errors.js';
import {
  type Answer,
  answerFrame,
  type BackFrame,
  backFrame,
  readTyped,
  TRANSFER_VERSION,
  writeFrame,
} from './frames.js';
import { hashPrefix } from './parts.js';
import type { SendItem } from './sources.js';

export interface TransferProgress {
  bytes: number;
  /** null while a file of unknown size (standard input) is part of it. */
  total: number | null;
}

export interface SentFile {
  index: number;
  /** The name as offered. */
  file: string;
  /** The receiver's name for it when it differs (renamed because the name was taken, or cleaned). */
  savedAs: string;
  bytes: number;
  sha256: string;
  /** Bytes the receiver already had from an interrupted transfer (0: sent whole). */
  resumedFrom: number;
}

export interface SendOptions {
  onProgress?: (p: TransferProgress) => void;
  onFile?: (f: SentFile) => void;
  /**
   * Called once the receiver has answered, with the bytes still to send (after resume offsets; null
   * for standard input): throwing stops before any body (a relay budget too small, say).
   */
  beforeBodies?: (remaining: number | null) => void;
  /** Aborting stops cleanly: the receiver hears it at once and keeps what arrived for a resume. */
  signal?: AbortSignal;
}

export interface SentTransfer {
  files: SentFile[];
  bytes: number;
}

/** Reads the receiver's receipts as they come, one per file, while the sender keeps writing. */
class Receipts {
  private readonly waiting = new Map<number, (frame: Extract<BackFrame, { kind: 'receipt' }>) => void>();
  private readonly got = new Map<number, Extract<BackFrame, { kind: 'receipt' }>>();
  failure: Error | undefined;
  private onFailure: ((e: Error) => void)[] = [];

  constructor(reader: StreamReader, buddy: string, expected: number) {
    void (async () => {
      for (let n = 0; n < expected; n++) {
        const frame = await readTyped(reader, backFrame, 'receipt');
        if (frame.kind === 'cancel')
          throw new TransferCancelledError(`${buddy} stopped the transfer (${frame.reason})`, 'peer');
        this.got.set(frame.index, frame);
        this.waiting.get(frame.index)?.(frame);
      }
    })().catch((error: unknown) =>
      this.fail(error instanceof Error ? error : new TransferError(String(error))),
    );
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const f of this.onFailure) f(this.failure);
  }

  next(index: number): Promise<Extract<BackFrame, { kind: 'receipt' }>> {
    const have = this.got.get(index);
    if (have) return Promise.resolve(have);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(index, resolve);
      this.onFailure.push(reject);
    });
  }
}

/**
 * A file is read on this thread, a chunk at a time, right before it is hashed and encrypted: the
 * bytes are still in the CPU's cache for both. A read stream's thread-pool reads left them cold
 * (measured: the sender's CPU 3.2-3.5 -> 2.4-2.9 ns/B, BENCHMARKS.md "Issue 9: the receiver's CPU
 * per byte"). Standard input stays a stream.
 */
async function* chunksOf(item: SendItem, from: number): AsyncGenerator<Buffer> {
  if (item.stream || !item.path) {
    const source: Readable = item.stream ?? createReadStream(item.path ?? '', { start: from });
    for await (const chunk of source) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      for (let at = 0; at < buffer.length; at += CHUNK_BYTES) yield buffer.subarray(at, at + CHUNK_BYTES);
    }
    return;
  }
  const fd = openSync(item.path, 'r');
  try {
    for (let at = from; ; ) {
      // A fresh buffer per chunk: the connection may still hold the previous one.
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      const n = readSync(fd, chunk, 0, CHUNK_BYTES, at);
      if (n === 0) return;
      at += n;
      yield chunk.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** Where to start: the receiver's offset when our own first bytes hash the same, else 0. */
async function startOf(
  item: SendItem,
  offer: { offset: number; prefixSha256?: string | undefined },
): Promise<{ offset: number; hash: Hash }> {
  if (
    offer.offset > 0 &&
    item.path &&
    item.bytes !== null &&
    offer.offset <= item.bytes &&
    offer.prefixSha256
  ) {
    const hash = await hashPrefix(item.path, offer.offset);
    if (hash.copy().digest('hex') === offer.prefixSha256) return { offset: offer.offset, hash };
  }
  return { offset: 0, hash: createHash('sha256') };
}

/**
 * Offers the items (or a text) to the buddy at the other end of `connection`, sends each accepted
 * file from where the receiver's verified part ends, and resolves when every receipt confirms the
 * whole file's SHA-256. A decline is a TransferDeclinedError; a stop by either side a TransferCancelledError.
 */
export async function sendTransfer(
  connection: Duplex,
  buddy: string,
  what: { items: SendItem[]; text?: string },
  options: SendOptions = {},
): Promise<SentTransfer> {
  // Errors surface through the reader and the writes; an 'error' event must never go unheard.
  connection.on('error', () => {});
  const reader = new StreamReader(connection);
  const offer = {
    kind: 'offer',
    v: TRANSFER_VERSION,
    files: what.items.map((i) => ({ name: i.name, bytes: i.bytes })),
    ...(what.text !== undefined ? { text: what.text } : {}),
  };
  await writeFrame(connection, offer);
  const answer: Answer = await readTyped(reader, answerFrame, 'answer').catch((error: unknown) => {
    // Closed before any answer: most often the buddy's side refused our key after the handshake.
    const refused = error instanceof SessionError && error.code === 'REFUSED';
    if (refused || (error instanceof TransferError && /closed/.test(error.message)))
      throw new TransferError(
        `${buddy} closed the connection without answering (their buddylink may not accept this key: ` +
          'is this the home your account was created with?)',
      );
    throw error;
  });
  if (!answer.accept) throw new TransferDeclinedError(answer.code, `${buddy} declined: ${answer.reason}`);
  if (answer.files.length !== what.items.length)
    throw new TransferError(`${buddy} answered for a different set of files`);
  if (options.beforeBodies) {
    const remaining = what.items.some((i) => i.bytes === null)
      ? null
      : what.items.reduce((s, i, n) => s + (i.bytes ?? 0) - (answer.files[n]?.offset ?? 0), 0);
    try {
      options.beforeBodies(remaining);
    } catch (error) {
      writeCancel(connection);
      connection.end();
      throw error;
    }
  }
  const receipts = new Receipts(reader, buddy, what.items.length);
  const total = what.items.some((i) => i.bytes === null)
    ? null
    : what.items.reduce((s, i) => s + (i.bytes ?? 0), 0);
  let done = 0;
  const files: SentFile[] = [];
  const stop = () => {
    writeCancel(connection);
    connection.end();
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    const confirmed: Promise<void>[] = [];
    for (const [index, item] of what.items.entries()) {
      if (options.signal?.aborted) throw new TransferCancelledError('stopped');
      const start = await startOf(item, answer.files[index] ?? { offset: 0 });
      await writeFrame(connection, { kind: 'file', index, offset: start.offset });
      done += start.offset;
      let sent = start.offset;
      for await (const chunk of chunksOf(item, start.offset)) {
        if (options.signal?.aborted) throw new TransferCancelledError('stopped');
        if (receipts.failure) throw receipts.failure;
        start.hash.update(chunk);
        await writeChunk(connection, chunk);
        sent += chunk.length;
        done += chunk.length;
        options.onProgress?.({ bytes: done, total });
      }
      if (item.bytes !== null && sent !== item.bytes)
        throw new TransferError(`${item.path ?? item.name} changed while it was sent`);
      const digest = start.hash.digest();
      await writeBodyEnd(connection, digest);
      const sha256 = digest.toString('hex');
      confirmed.push(
        receipts.next(index).then((receipt) => {
          if (!receipt.ok)
            throw new TransferError(`${buddy} could not save ${item.name}: ${receipt.reason ?? 'no reason'}`);
          const file: SentFile = {
            index,
            file: item.name,
            savedAs: receipt.name ?? item.name,
            bytes: sent,
            sha256,
            resumedFrom: start.offset,
          };
          files.push(file);
          options.onFile?.(file);
        }),
      );
      // Keep one failure from turning into an unhandled rejection while later files are written.
      confirmed.at(-1)?.catch(() => {});
    }
    for (const c of confirmed) await c;
    connection.end();
    return { files, bytes: done };
  } catch (error) {
    if (options.signal?.aborted)
      throw new TransferCancelledError(`stopped: ${buddy} keeps what arrived, send again to resume`);
    throw receipts.failure ?? error;
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}

/** A one-line text message: offered, accepted, done (no body). */
export async function sendText(connection: Duplex, buddy: string, text: string): Promise<void> {
  await sendTransfer(connection, buddy, { items: [], text });
}
