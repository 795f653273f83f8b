import { z } from 'zod';
import { SessionError } from './errors.js';

/**
 * The session's frames inside a path's Noise stream. Every frame starts with its type; numbers are
 * big-endian. Offsets count payload bytes from the session's start (TCP-style), in 48 bits.
 *  DATA  type · offset(6) · length(4) · payload     bytes [offset, offset+length) of the stream
 *  ACK   type · offset(6)                           everything below offset has arrived
 *  PING  type                                       liveness of the path it travels on
 *  FIN   type · offset(6)                           the sender's stream ends at offset
 *  FINACK type                                      the FIN arrived
 *  HELLO type · flags(1) · nonce(16) · received(6)  binds this path to a session (see session-id.ts)
 *  RESET type · code(1)                             the session is over (or this path is refused)
 */
export const FrameType = {
  DATA: 0x10,
  ACK: 0x11,
  PING: 0x12,
  FIN: 0x13,
  FINACK: 0x14,
  HELLO: 0x15,
  RESET: 0x16,
} as const;

export const DATA_HEADER_BYTES = 11;
/** A DATA frame's payload at most: a transfer chunk (1 MiB) with room; keeps a bad length harmless. */
export const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
export const NONCE_BYTES = 16;
const FIXED_BYTES: Record<number, number> = {
  [FrameType.ACK]: 7,
  [FrameType.PING]: 1,
  [FrameType.FIN]: 7,
  [FrameType.FINACK]: 1,
  [FrameType.HELLO]: 1 + 1 + NONCE_BYTES + 6,
  [FrameType.RESET]: 2,
};

/** HELLO flags: a new session, or a path joining a running one. */
export const HELLO_NEW = 0x01;
export const HELLO_RESUME = 0x02;

/** RESET codes. */
export const ResetCode = { CLOSED: 1, UNKNOWN_SESSION: 2, REFUSED: 3 } as const;

const offset = z
  .number()
  .int()
  .min(0)
  .max(2 ** 48 - 1);
/** Control frames, decoded, checked like any other network input. */
export const controlFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal(FrameType.ACK), offset }),
  z.object({ type: z.literal(FrameType.PING) }),
  z.object({ type: z.literal(FrameType.FIN), offset }),
  z.object({ type: z.literal(FrameType.FINACK) }),
  z.object({
    type: z.literal(FrameType.HELLO),
    flags: z.union([z.literal(HELLO_NEW), z.literal(HELLO_RESUME)]),
    nonce: z.instanceof(Buffer).refine((b) => b.length === NONCE_BYTES),
    received: offset,
  }),
  z.object({ type: z.literal(FrameType.RESET), code: z.number().int().min(0).max(255) }),
]);
export type ControlFrame = z.infer<typeof controlFrame>;
export type HelloFrame = Extract<ControlFrame, { type: typeof FrameType.HELLO }>;
export type Frame = ControlFrame | { type: typeof FrameType.DATA; offset: number; payload: Buffer };

/** One DATA frame in one buffer: the single copy also keeps the bytes for a retransmit. */
export function encodeData(at: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(DATA_HEADER_BYTES + payload.length);
  frame[0] = FrameType.DATA;
  frame.writeUIntBE(at, 1, 6);
  frame.writeUInt32BE(payload.length, 7);
  payload.copy(frame, DATA_HEADER_BYTES);
  return frame;
}

export function encodeAck(at: number): Buffer {
  return withOffset(FrameType.ACK, at);
}

export function encodeFin(at: number): Buffer {
  return withOffset(FrameType.FIN, at);
}

export const PING_FRAME = Buffer.from([FrameType.PING]);
export const FINACK_FRAME = Buffer.from([FrameType.FINACK]);

export function encodeHello(flags: number, nonce: Buffer, received: number): Buffer {
  const frame = Buffer.alloc(FIXED_BYTES[FrameType.HELLO] ?? 0);
  frame[0] = FrameType.HELLO;
  frame[1] = flags;
  nonce.copy(frame, 2);
  frame.writeUIntBE(received, 2 + NONCE_BYTES, 6);
  return frame;
}

export function encodeReset(code: number): Buffer {
  return Buffer.from([FrameType.RESET, code]);
}

function withOffset(type: number, at: number): Buffer {
  const frame = Buffer.allocUnsafe(7);
  frame[0] = type;
  frame.writeUIntBE(at, 1, 6);
  return frame;
}

/**
 * Splits a path's byte stream into frames. A Noise stream hands over whole messages (one frame
 * each), so the usual case is one chunk, one frame, payload sliced without a copy; any other
 * chunking works too. A malformed frame throws SessionError('BAD_FRAME').
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      // A header split across chunks: join what there is so the header can be read.
      if ((this.pending[0] as Buffer).length < DATA_HEADER_BYTES && this.pending.length > 1) {
        this.pending = [Buffer.concat(this.pending, this.pendingBytes)];
      }
      const needed = this.needed(this.pending[0] as Buffer);
      if (needed === undefined || this.pendingBytes < needed) return;
      chunk = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let at = 0;
    while (at < chunk.length) {
      const rest = at === 0 ? chunk : chunk.subarray(at);
      const needed = this.needed(rest);
      if (needed === undefined || rest.length < needed) {
        this.pending = [rest];
        this.pendingBytes = rest.length;
        return;
      }
      onFrame(decode(rest.subarray(0, needed)));
      at += needed;
    }
  }

  /** Bytes of the frame at the start of `head`, or undefined when its header is still incomplete. */
  private needed(head: Buffer): number | undefined {
    const type = head[0] as number;
    if (type === FrameType.DATA) {
      if (head.length < DATA_HEADER_BYTES) return undefined; // an incomplete header: wait for more
      const length = head.readUInt32BE(7);
      if (length > MAX_PAYLOAD_BYTES) throw new SessionError('BAD_FRAME', `a DATA frame of ${length} bytes`);
      return DATA_HEADER_BYTES + length;
    }
    const fixed = FIXED_BYTES[type];
    if (fixed === undefined) throw new SessionError('BAD_FRAME', `unknown frame type ${type}`);
    return fixed;
  }
}

function decode(frame: Buffer): Frame {
  const type = frame[0] as number;
  if (type === FrameType.DATA) {
    return {
      type: FrameType.DATA,
      offset: frame.readUIntBE(1, 6),
      payload: frame.subarray(DATA_HEADER_BYTES),
    };
  }
  const raw =
    type === FrameType.ACK || type === FrameType.FIN
      ? { type, offset: frame.readUIntBE(1, 6) }
      : type === FrameType.HELLO
        ? {
            type,
            flags: frame[1],
            nonce: Buffer.from(frame.subarray(2, 2 + NONCE_BYTES)),
            received: frame.readUIntBE(2 + NONCE_BYTES, 6),
          }
        : type === FrameType.RESET
          ? { type, code: frame[1] }
          : { type };
  const parsed = controlFrame.safeParse(raw);
  if (!parsed.success) throw new SessionError('BAD_FRAME', `a malformed frame of type ${type}`);
  return parsed.data;
}
