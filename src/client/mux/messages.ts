import { MuxError } from './errors.js';

/** A message is JSON, or raw bytes (Buffer / Uint8Array), told apart by the first byte. */
const KIND_JSON = 0;
const KIND_BYTES = 1;

export function encodeValue(value: unknown, limit: number): Buffer {
  let body: Buffer;
  let kind: number;
  if (value instanceof Uint8Array) {
    body = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    kind = KIND_BYTES;
  } else {
    const json = JSON.stringify(value ?? null);
    if (json === undefined) throw new MuxError('BAD_MESSAGE', 'the value cannot be sent as JSON');
    body = Buffer.from(json);
    kind = KIND_JSON;
  }
  if (body.length + 1 > limit) {
    throw new MuxError('MESSAGE_TOO_LARGE', `message of ${body.length + 1} bytes (limit ${limit})`);
  }
  return Buffer.concat([Buffer.from([kind]), body]);
}

/** Decodes a peer's message; a malformed one is a typed error for the caller to drop or report. */
export function decodeValue(payload: Buffer): unknown {
  const kind = payload[0];
  const body = payload.subarray(1);
  if (kind === KIND_BYTES) return Buffer.from(body);
  if (kind === KIND_JSON) {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new MuxError('BAD_MESSAGE', 'a message that is not JSON');
    }
  }
  throw new MuxError('BAD_MESSAGE', `unknown message kind ${String(kind)}`);
}
