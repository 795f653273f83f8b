import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { TransferError } from '../errors.js';
import type { StreamReader } from '../stream-reader.js';

/**
 * The transfer protocol's control frames: a 4-byte big-endian length and a JSON object, validated
 * like any other network input. They ride on any Duplex (a peer connection today, a session or a
 * mux stream tomorrow); file bodies between them are chunked (body.ts).
 *
 * initiator → answerer: hello (`offer` or `chat`)
 * answerer → initiator: `answer` (accept with per-file name and resume offset, or decline)
 * initiator → answerer, per file: `file` (the offset it starts from), body chunks, SHA-256
 * answerer → initiator, per file: `receipt` (or `cancel` at any time)
 */
export const TRANSFER_VERSION = 1;
/** A manifest of many files is the largest frame; everything else is far below. */
export const MAX_FRAME_BYTES = 2 * 1024 * 1024;
export const MAX_FILES = 10_000;
export const MAX_TEXT_CHARS = 64 * 1024;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const byteCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const reason = z.string().max(300);

export const offerFile = z
  .object({
    /** Path relative to what was sent, `/`-separated (`album/sub/b.txt`); sanitised by the receiver. */
    name: z.string().min(1).max(4096),
    /** null: not known in advance (standard input); such a file cannot resume. */
    bytes: byteCount.nullable(),
  })
  .strict();
export type OfferFile = z.infer<typeof offerFile>;

export const helloFrame = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('offer'),
      v: z.literal(TRANSFER_VERSION),
      files: z.array(offerFile).max(MAX_FILES),
      text: z.string().max(MAX_TEXT_CHARS).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('chat') }).strict(),
]);
export type Hello = z.infer<typeof helloFrame>;
export type Offer = Extract<Hello, { kind: 'offer' }>;

/** Why an answerer says no: the sender's exit code and message follow from it. */
export const declineCode = z.enum(['DECLINED', 'TOO_LARGE', 'NOT_FROM_YOU', 'NOT_CHATTING', 'NOT_RECEIVING']);
export type DeclineCode = z.infer<typeof declineCode>;

export const answerFrame = z.discriminatedUnion('accept', [
  z
    .object({
      kind: z.literal('answer'),
      accept: z.literal(true),
      /** Per offered file: where it will be saved (relative, after renames) and the verified prefix. */
      files: z
        .array(
          z
            .object({
              name: z.string().min(1).max(4096),
              offset: byteCount,
              prefixSha256: sha256Hex.optional(),
            })
            .strict(),
        )
        .max(MAX_FILES),
    })
    .strict(),
  z.object({ kind: z.literal('answer'), accept: z.literal(false), code: declineCode, reason }).strict(),
]);
export type Answer = z.infer<typeof answerFrame>;

export const fileHeader = z
  .object({ kind: z.literal('file'), index: z.number().int().min(0).max(MAX_FILES), offset: byteCount })
  .strict();

/** Answerer → initiator after each file, or `cancel` when the answerer stops. */
export const backFrame = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('receipt'),
      index: z.number().int().min(0).max(MAX_FILES),
      ok: z.boolean(),
      name: z.string().max(4096).optional(),
      sha256: sha256Hex.optional(),
      reason: reason.optional(),
    })
    .strict(),
  z.object({ kind: z.literal('cancel'), reason }).strict(),
]);
export type BackFrame = z.infer<typeof backFrame>;

function writeAll(stream: Duplex, chunk: Buffer): Promise<void> {
  return new Promise((resolveWrite, reject) => {
    if (stream.destroyed || stream.writableEnded) {
      reject(new TransferError('the connection closed'));
      return;
    }
    stream.write(chunk, (error) =>
      error ? reject(new TransferError('the connection closed')) : resolveWrite(),
    );
  });
}

export async function writeFrame(stream: Duplex, frame: object): Promise<void> {
  const body = Buffer.from(JSON.stringify(frame));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  await writeAll(stream, Buffer.concat([head, body]));
}

export async function readFrame(reader: StreamReader): Promise<unknown> {
  const length = (await reader.readExact(4)).readUInt32BE(0);
  if (length > MAX_FRAME_BYTES) throw new TransferError(`frame of ${length} bytes is larger than allowed`);
  const body = await reader.readExact(length);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new TransferError('frame is not JSON');
  }
}

/** Reads one frame and validates it; `what` names it in the error. */
export async function readTyped<T>(reader: StreamReader, schema: z.ZodType<T>, what: string): Promise<T> {
  const parsed = schema.safeParse(await readFrame(reader));
  if (!parsed.success) throw new TransferError(`the peer sent an unreadable ${what}`);
  return parsed.data;
}

/** The first frame on an incoming connection: what the initiator is about to do. */
export function readHello(reader: StreamReader): Promise<Hello> {
  return readTyped(reader, helloFrame, 'greeting (an older or newer buddylink?)');
}
