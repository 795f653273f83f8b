import { BuddylinkError } from '../../protocol/index.js';

/**
 * Why a stream, a request or a whole mux ended: one code per cause a program can act on. The table
 * in README.md ("Close reasons") explains each.
 */
export type CloseCode =
  /** The peer ended or closed cleanly (or its process went away with a FIN). */
  | 'PEER_CLOSED'
  /** The peer's transport reset the connection (ECONNRESET, EPIPE, a killed process). */
  | 'PEER_RESET'
  /** Nothing heard from the peer for the idle timeout: it vanished, or the path broke. */
  | 'IDLE_TIMEOUT'
  /** The relay cut the session at its byte cap or rate limit. */
  | 'RELAY_LIMIT'
  /** The relay closed the session by the server's policy (buddy removed, ticket expired or replaced). */
  | 'RELAY_CLOSED'
  /** The server went away (shut down) while relaying this connection. */
  | 'SERVER_GONE'
  /** This side closed it: `close()`, `destroy()`, or the client closing. */
  | 'LOCAL_CLOSE'
  /** The peer reset this one stream (the connection stays). */
  | 'STREAM_RESET'
  /** The peer refused a stream: nobody listens for 'stream' there, or too many are open. */
  | 'STREAM_REFUSED'
  /** The peer broke the framing or flow control; the mux is closed. */
  | 'PROTOCOL_ERROR'
  /** A frame or message over the size limit. */
  | 'FRAME_TOO_LARGE';

/** Codes of errors raised by the message layer (requests and sends). */
export type MessageErrorCode =
  | 'MESSAGE_TOO_LARGE'
  | 'REQUEST_FAILED'
  | 'NO_HANDLER'
  | 'BUSY'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'BAD_MESSAGE';

export type MuxErrorCode = CloseCode | MessageErrorCode;

/** An error of the multiplexer: a stream or the mux closed for `code`, or a request failed. */
export class MuxError extends BuddylinkError {
  declare readonly code: MuxErrorCode;
  constructor(code: MuxErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'MuxError';
  }
}

const TRANSPORT_CODES = new Set<string>([
  'PEER_CLOSED',
  'PEER_RESET',
  'IDLE_TIMEOUT',
  'RELAY_LIMIT',
  'RELAY_CLOSED',
  'SERVER_GONE',
  'LOCAL_CLOSE',
  'PROTOCOL_ERROR',
  'FRAME_TOO_LARGE',
]);

/** Maps whatever ended the carrying stream (a Node error, a typed error, nothing) to a close code. */
export function closeCodeOf(error: unknown): CloseCode {
  if (error === undefined || error === null) return 'PEER_CLOSED';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (TRANSPORT_CODES.has(code)) return code as CloseCode;
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return 'PEER_RESET';
    if (code === 'ETIMEDOUT') return 'IDLE_TIMEOUT';
    if (code === 'ABORTED' || code === 'DISCONNECTED') return 'LOCAL_CLOSE';
  }
  const message = error instanceof Error ? error.message : String(error);
  // secret-stream and udx say "Stream timed out" with no code when the idle timeout fires.
  if (/timed out/i.test(message)) return 'IDLE_TIMEOUT';
  if (/reset|destroyed/i.test(message)) return 'PEER_RESET';
  return 'PEER_RESET';
}
