import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, link, open, stat, unlink } from 'node:fs/promises';
import { basename, extname, join, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { TransferError } from './errors.js';
import { StreamReader } from './stream-reader.js';

/**
 * What runs on a verified peer connection: a framed hello says what follows (a file, or a chat),
 * then a file body with its SHA-256 and an acknowledgement back. Frames are a 4-byte big-endian
 * length and a JSON object, validated like any other network input.
 */
const MAX_FRAME_BYTES = 4096;
const DIGEST_BYTES = 32;
/** Large reads and writes: fewer callbacks, syscalls and Noise frames per byte (the profile's idle gaps). */
const CHUNK_BYTES = 1024 * 1024;

export const helloFrame = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('file'),
      name: z.string().min(1).max(255),
      bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    })
    .strict(),
  z.object({ kind: z.literal('chat') }).strict(),
]);
export type Hello = z.infer<typeof helloFrame>;

const receiptFrame = z
  .object({
    ok: z.boolean(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    reason: z.string().max(200).optional(),
  })
  .strict();

export interface TransferProgress {
  bytes: number;
  total: number;
}

export interface TransferResult {
  /** The file's name as sent (sender) or as written under the output directory (receiver). */
  file: string;
  bytes: number;
  sha256: string;
}

/** Writes without waiting for the flush; waits only while the stream asks for back-pressure. */
function writeFlowing(stream: Duplex, chunk: Buffer): Promise<void> {
  if (stream.destroyed) return Promise.reject(new TransferError('the connection closed'));
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((resolveWrite, reject) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', closed);
      resolveWrite();
    };
    const closed = () => {
      stream.off('drain', done);
      reject(new TransferError('the connection closed'));
    };
    stream.once('drain', done);
    stream.once('close', closed);
  });
}

function writeAll(stream: Duplex, chunk: Buffer): Promise<void> {
  return new Promise((resolveWrite, reject) => {
    if (stream.destroyed) {
      reject(new TransferError('the connection closed'));
      return;
    }
    stream.write(chunk, (error) => (error ? reject(error) : resolveWrite()));
  });
}

export async function writeFrame(stream: Duplex, frame: object): Promise<void> {
  const body = Buffer.from(JSON.stringify(frame));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  await writeAll(stream, Buffer.concat([head, body]));
}

/** Reads one length-prefixed JSON frame (as `writeFrame` writes it), at most `maxBytes` long. */
export async function readFrame(reader: StreamReader, maxBytes: number = MAX_FRAME_BYTES): Promise<unknown> {
  const length = (await reader.readExact(4)).readUInt32BE(0);
  if (length > maxBytes) throw new TransferError(`frame of ${length} bytes is larger than allowed`);
  try {
    return JSON.parse((await reader.readExact(length)).toString('utf8'));
  } catch (error) {
    if (error instanceof TransferError) throw error;
    throw new TransferError('frame is not JSON');
  }
}

/** The first frame on an incoming connection: what the initiator is about to do. */
export async function readHello(reader: StreamReader): Promise<Hello> {
  const parsed = helloFrame.safeParse(await readFrame(reader));
  if (!parsed.success) throw new TransferError('the peer sent an unknown greeting');
  return parsed.data;
}

/** Sends one file: hello, body, SHA-256, then waits for the receiver to confirm the hash. */
export async function sendFile(
  connection: Duplex,
  path: string,
  options: { name?: string; onProgress?: (p: TransferProgress) => void } = {},
): Promise<TransferResult> {
  const { size } = await stat(path);
  const name = options.name ?? basename(path);
  const reader = new StreamReader(connection);
  await writeFrame(connection, { kind: 'file', name, bytes: size });
  const hash = createHash('sha256');
  let sent = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    await writeFlowing(connection, buffer);
    sent += buffer.length;
    options.onProgress?.({ bytes: sent, total: size });
  }
  if (sent !== size) throw new TransferError(`${path} changed while it was sent`);
  const digest = hash.digest();
  await writeAll(connection, digest);
  const receipt = receiptFrame.safeParse(await readFrame(reader));
  if (!receipt.success) throw new TransferError('the receiver sent an unreadable receipt');
  if (!receipt.data.ok)
    throw new TransferError(`the receiver refused the file: ${receipt.data.reason ?? 'no reason'}`);
  connection.end();
  return { file: name, bytes: size, sha256: digest.toString('hex') };
}

/**
 * A peer's file name reduced to one harmless path component: no directories, no `..`, no control
 * characters. The result always lands inside the output directory.
 */
export function safeFileName(name: string): string {
  const last = name.split(/[/\\]/).pop() ?? '';
  const printable = [...last].filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f).join('');
  const cleaned = printable.trim().slice(0, 200);
  if (cleaned === '' || cleaned === '.' || cleaned === '..') return 'received-file';
  return cleaned;
}

/** Links the finished temp file to a free name (never overwriting) and removes the temp name. */
async function publish(dir: string, temp: string, wanted: string): Promise<string> {
  const ext = extname(wanted);
  const stem = wanted.slice(0, wanted.length - ext.length);
  for (let n = 0; n < 1000; n++) {
    const name = n === 0 ? wanted : `${stem} (${n})${ext}`;
    const target = join(dir, name);
    try {
      await link(temp, target);
      await unlink(temp);
      return name;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new TransferError(`no free name for ${wanted} in ${dir}`);
}

/** Bytes being written to disk at once while the next ones are read off the connection. */
const MAX_WRITING_BYTES = 8 * CHUNK_BYTES;

/**
 * Disk writes that overlap the network: each at its own offset (so their order on disk does not
 * depend on the thread pool), at most MAX_WRITING_BYTES in flight, the first failure kept.
 */
class PositionedWrites {
  private readonly inFlight = new Set<Promise<void>>();
  private bytes = 0;
  private failure: unknown;

  constructor(private readonly file: FileHandle) {}

  async write(chunk: Buffer, position: number): Promise<void> {
    if (this.failure) throw this.failure;
    const done: Promise<void> = this.file.write(chunk, 0, chunk.length, position).then(
      () => {
        this.bytes -= chunk.length;
        this.inFlight.delete(done);
      },
      (error: unknown) => {
        this.failure ??= error;
        this.inFlight.delete(done);
      },
    );
    this.bytes += chunk.length;
    this.inFlight.add(done);
    while (this.bytes > MAX_WRITING_BYTES && this.inFlight.size > 0) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  async flush(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }
}

/**
 * Receives the file announced by `hello` into `dir`: written under a temporary name, hashed on the
 * way, and published under its (sanitised) name only when the sender's SHA-256 matches.
 */
export async function receiveFile(
  connection: Duplex,
  reader: StreamReader,
  hello: Extract<Hello, { kind: 'file' }>,
  dir: string,
  options: { onProgress?: (p: TransferProgress) => void } = {},
): Promise<TransferResult> {
  const root = resolve(dir);
  const wanted = safeFileName(hello.name);
  const temp = join(root, `.${randomBytes(8).toString('hex')}.buddylink-part`);
  if (!resolve(temp).startsWith(root + sep)) throw new TransferError('output directory is not usable');
  const file = await open(temp, 'wx');
  const hash = createHash('sha256');
  const writes = new PositionedWrites(file);
  let received = 0;
  try {
    while (received < hello.bytes) {
      const chunk = await reader.readSome(Math.min(CHUNK_BYTES, hello.bytes - received));
      if (chunk.length === 0)
        throw new TransferError(`the sender closed after ${received} of ${hello.bytes} bytes`);
      hash.update(chunk);
      await writes.write(chunk, received);
      received += chunk.length;
      options.onProgress?.({ bytes: received, total: hello.bytes });
    }
    await writes.flush();
    await file.close();
    const expected = await reader.readExact(DIGEST_BYTES);
    const actual = hash.digest();
    if (!actual.equals(expected)) {
      await writeFrame(connection, { ok: false, reason: 'sha256 mismatch' }).catch(() => {});
      throw new TransferError(`${wanted}: sha256 does not match what the sender computed`);
    }
    const name = await publish(root, temp, wanted);
    await writeFrame(connection, { ok: true, sha256: actual.toString('hex') });
    return { file: name, bytes: received, sha256: actual.toString('hex') };
  } catch (error) {
    await writes.flush().catch(() => {});
    await file.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
}
