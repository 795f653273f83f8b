import { MuxError } from './errors.js';

/**
 * The multiplexer's wire format over any byte stream: a 10-byte header, then the payload.
 *   type u8 | flags u8 | id u32 BE | length u32 BE | payload
 * `id` names a stream or a request in the space of the side that opened it; the OPENER flag says
 * whose space, so both sides can number from 1 without agreeing on roles first.
 */
export const HEADER_BYTES = 10;

export const FrameType = {
  OPEN: 1,
  DATA: 2,
  END: 3,
  RESET: 4,
  CREDIT: 5,
  MESSAGE: 6,
  REQUEST: 7,
  REPLY: 8,
  REPLY_ERROR: 9,
  PING: 10,
  PONG: 11,
} as const;

export type FrameTypeName = keyof typeof FrameType;
export type FrameTypeCode = (typeof FrameType)[FrameTypeName];

const KNOWN_TYPES = new Set<number>(Object.values(FrameType));

/** Set when `id` is in the space of the frame's sender (it opened the stream or sent the request). */
export const FLAG_OPENER = 0x01;

export interface Frame {
  type: FrameTypeCode;
  /** The sender opened this stream / sent this request. */
  opener: boolean;
  id: number;
  payload: Buffer;
}

export function encodeFrame(type: FrameTypeCode, opener: boolean, id: number, payload?: Buffer): Buffer {
  const length = payload?.length ?? 0;
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt8(type, 0);
  header.writeUInt8(opener ? FLAG_OPENER : 0, 1);
  header.writeUInt32BE(id >>> 0, 2);
  header.writeUInt32BE(length, 6);
  return payload && length > 0 ? Buffer.concat([header, payload]) : header;
}

/**
 * Cuts a byte stream into frames. Everything the peer sends is checked before use: an unknown type,
 * unknown flags or a length over `maxPayload` is a protocol error (the caller closes the mux), and
 * no more than `maxPayload` plus one header is ever buffered.
 */
export class FrameParser {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;

  constructor(private readonly maxPayload: number) {}

  /** Feeds bytes; returns the complete frames. Throws MuxError on a malformed frame. */
  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.bufferedBytes >= HEADER_BYTES) {
      const head = this.peek(HEADER_BYTES);
      const type = head.readUInt8(0);
      const flags = head.readUInt8(1);
      const id = head.readUInt32BE(2);
      const length = head.readUInt32BE(6);
      if (!KNOWN_TYPES.has(type)) throw new MuxError('PROTOCOL_ERROR', `unknown frame type ${type}`);
      if ((flags & ~FLAG_OPENER) !== 0) throw new MuxError('PROTOCOL_ERROR', `unknown frame flags ${flags}`);
      if (length > this.maxPayload) {
        throw new MuxError('FRAME_TOO_LARGE', `frame of ${length} bytes (limit ${this.maxPayload})`);
      }
      if (this.bufferedBytes < HEADER_BYTES + length) break;
      const whole = this.take(HEADER_BYTES + length);
      frames.push({
        type: type as FrameTypeCode,
        opener: (flags & FLAG_OPENER) !== 0,
        id,
        payload: whole.subarray(HEADER_BYTES),
      });
    }
    return frames;
  }

  private peek(bytes: number): Buffer {
    if (this.buffered[0] && this.buffered[0].length >= bytes) return this.buffered[0];
    const joined = Buffer.concat(this.buffered);
    this.buffered = [joined];
    return joined;
  }

  private take(bytes: number): Buffer {
    const joined = this.peek(bytes);
    const out = joined.subarray(0, bytes);
    const rest = joined.subarray(bytes);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes -= bytes;
    return out;
  }
}
