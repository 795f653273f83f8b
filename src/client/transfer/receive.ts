import { type FileHandle, open, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Duplex, Writable } from 'node:stream';
import { TransferError } from '../errors.js';
import type { StreamReader } from '../stream-reader.js';
import { readBody } from './body.js';
import { TransferCancelledError } from './errors.js';
import { writeAt } from './file-writes.js';
import { type DeclineCode, fileHeader, type Offer, type OfferFile, readTyped, writeFrame } from './frames.js';
import { safeRelativePath } from './names.js';
import { type Prefix, partPath, readPrefix } from './parts.js';
import { publish } from './publish.js';
import type { TransferProgress } from './send.js';

/** An offer as the receiver's person or policy sees it. */
export interface IncomingOffer {
  from: string;
  /** Names already made safe (what they will be saved as, before any ` (n)` rename). */
  files: OfferFile[];
  /** null when a file's size is not known in advance (standard input). */
  total: number | null;
  text?: string;
}

export type Decision = { accept: true } | { accept: false; code: DeclineCode; reason: string };

export interface ReceivedFile {
  index: number;
  /** Path relative to the receive directory, as saved (`album/sub/b.txt`, `b (1).bin`). */
  file: string;
  bytes: number;
  sha256: string;
  resumedFrom: number;
}

export interface ReceivedTransfer {
  from: string;
  files: ReceivedFile[];
  bytes: number;
  text?: string;
}

export interface ReceiveOptions {
  dir: string;
  /** Writes the (single) file here instead of under `dir` (`receive --stdout`). */
  sink?: Writable;
  decide: (offer: IncomingOffer) => Promise<Decision>;
  onProgress?: (p: TransferProgress) => void;
  onFile?: (f: ReceivedFile) => void;
  /** Aborting tells the sender at once; what arrived stays as a part file for a resume. */
  signal?: AbortSignal;
  /** A transfer of unknown size (standard input) is stopped when it grows past this. */
  maxBytes?: number;
}

/** Declines an incoming hello this side does not serve (a chat to `receive`, a file to `chat`). */
export async function declineHello(connection: Duplex, code: DeclineCode, reason: string): Promise<void> {
  connection.on('error', () => {});
  await writeFrame(connection, { kind: 'answer', accept: false, code, reason }).catch(() => {});
  connection.end();
}

function sinkWrite(sink: Writable, piece: Buffer): Promise<void> {
  return new Promise((res, rej) => sink.write(piece, (e) => (e ? rej(e) : res())));
}

/**
 * Answers the offer that opened `connection` (after `decide`), then receives each file into a part
 * file (resuming from a verified prefix), checks its SHA-256 and publishes it under `dir`. A decline
 * resolves with no files. `from` is the verified buddy name (part files are keyed by it).
 */
export async function receiveTransfer(
  connection: Duplex,
  reader: StreamReader,
  offer: Offer,
  from: string,
  options: ReceiveOptions,
): Promise<ReceivedTransfer & { declined?: Decision }> {
  connection.on('error', () => {});
  const root = resolve(options.dir);
  const files = offer.files.map((f) => ({ name: safeRelativePath(f.name), bytes: f.bytes }));
  const total = files.some((f) => f.bytes === null) ? null : files.reduce((s, f) => s + (f.bytes ?? 0), 0);
  let decision: Decision =
    options.sink && files.length !== 1 && offer.text === undefined
      ? { accept: false, code: 'DECLINED', reason: 'receiving to standard output takes exactly one file' }
      : await options.decide({
          from,
          files,
          total,
          ...(offer.text !== undefined ? { text: offer.text } : {}),
        });
  if (options.signal?.aborted) decision = { accept: false, code: 'DECLINED', reason: 'the receiver stopped' };
  if (!decision.accept) {
    await declineHello(connection, decision.code, decision.reason);
    return { from, files: [], bytes: 0, declined: decision };
  }
  const prefixes: Prefix[] = [];
  for (const f of files) {
    prefixes.push(
      options.sink
        ? await readPrefix('', null)
        : await readPrefix(partPath(root, from, f.name, f.bytes), f.bytes),
    );
  }
  await writeFrame(connection, {
    kind: 'answer',
    accept: true,
    files: files.map((f, i) => {
      const p = prefixes[i];
      return { name: f.name, offset: p?.offset ?? 0, ...(p?.sha256 ? { prefixSha256: p.sha256 } : {}) };
    }),
  });
  const stop = () => {
    void writeFrame(connection, { kind: 'cancel', reason: 'the receiver stopped' })
      .catch(() => {})
      .finally(() => connection.end());
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  const received: ReceivedFile[] = [];
  let done = 0;
  try {
    for (const [index, f] of files.entries()) {
      const header = await readTyped(reader, fileHeader, 'file header');
      const prefix = prefixes[index] as Prefix;
      if (header.index !== index || (header.offset !== 0 && header.offset !== prefix.offset))
        throw new TransferError(`${from} sent files out of order`);
      const fresh = header.offset === 0;
      const hash = fresh ? (await readPrefix('', null)).hash : prefix.hash;
      const temp = partPath(root, from, f.name, f.bytes);
      let got = header.offset;
      done += got;
      let file: FileHandle | undefined;
      const describe = () =>
        `${f.name} from ${from} after ${got}${f.bytes === null ? '' : ` of ${f.bytes}`} bytes`;
      try {
        if (!options.sink) {
          file = await open(temp, fresh ? 'w' : 'r+');
        }
        const digest = await readBody(
          reader,
          async (piece) => {
            if (f.bytes !== null && got + piece.length > f.bytes)
              throw new TransferError(`${from} sent more than announced for ${f.name}`);
            if (options.maxBytes !== undefined && done + piece.length > options.maxBytes) {
              const reason = `more than the receiver's limit of ${options.maxBytes} bytes`;
              await writeFrame(connection, { kind: 'cancel', reason }).catch(() => {});
              throw new TransferError(`${f.name} from ${from}: ${reason}`);
            }
            hash.update(piece);
            if (file) writeAt(file, piece, got);
            else if (options.sink) await sinkWrite(options.sink, piece);
            got += piece.length;
            done += piece.length;
            options.onProgress?.({ bytes: done, total });
          },
          describe,
        );
        await file?.close();
        file = undefined;
        const actual = hash.digest();
        const short = f.bytes !== null && got !== f.bytes;
        if (short || !actual.equals(digest)) {
          await unlink(temp).catch(() => {});
          const reason = short ? 'fewer bytes than announced' : 'sha256 mismatch';
          await writeFrame(connection, { kind: 'receipt', index, ok: false, reason }).catch(() => {});
          throw new TransferError(
            `${f.name} from ${from}: ${short ? reason : 'sha256 does not match what the sender computed'}`,
          );
        }
        const saved = options.sink ? f.name : await publishOrSay(connection, root, temp, f.name, index);
        const sha256 = actual.toString('hex');
        await writeFrame(connection, { kind: 'receipt', index, ok: true, name: saved, sha256 });
        const one = { index, file: saved, bytes: got, sha256, resumedFrom: header.offset };
        received.push(one);
        options.onFile?.(one);
      } catch (error) {
        await file?.close().catch(() => {});
        // A body of unknown size cannot resume; anything else keeps its verified prefix.
        if (f.bytes === null || got === 0) await unlink(temp).catch(() => {});
        if (options.signal?.aborted)
          throw new TransferCancelledError(`stopped ${describe()}; kept for a resume`);
        // A local failure (disk full, permissions): the sender hears why instead of a bare close.
        const code = (error as NodeJS.ErrnoException).code;
        if (typeof code === 'string' && code.startsWith('E')) {
          const reason = `could not write ${f.name}: ${code}`;
          await writeFrame(connection, { kind: 'cancel', reason }).catch(() => {});
          throw new TransferError(`${reason} (${error instanceof Error ? error.message : String(error)})`);
        }
        throw error;
      }
    }
    connection.end();
    return { from, files: received, bytes: done, ...(offer.text !== undefined ? { text: offer.text } : {}) };
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}

async function publishOrSay(
  connection: Duplex,
  root: string,
  temp: string,
  name: string,
  index: number,
): Promise<string> {
  try {
    return await publish(root, temp, name);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await unlink(temp).catch(() => {});
    await writeFrame(connection, { kind: 'receipt', index, ok: false, reason: reason.slice(0, 300) }).catch(
      () => {},
    );
    throw new TransferError(`could not save ${name}: ${reason}`);
  }
}
