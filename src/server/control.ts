import type { RawData, WebSocket } from 'ws';
import { parseRequest } from '../protocol/envelope.js';
import { type ErrorCode, ProtocolError } from '../protocol/errors.js';
import type { Endpoint } from '../protocol/fields.js';
import type { Request } from '../protocol/requests.js';
import { logOffDevice } from './accounts.js';
import type { ServerContext } from './context.js';
import { CLOSE_CODES, ControlConnection } from './control-connection.js';
import { dispatch } from './dispatch.js';
import { TokenBucket } from './rate-limit.js';

/** Error codes that count as a strike against the connection: what a well-behaved client never causes. */
const STRIKE_CODES: ReadonlySet<ErrorCode> = new Set([
  'BAD_REQUEST',
  'TOO_LARGE',
  'RATE_LIMITED',
  'UNSUPPORTED_VERSION',
]);

/**
 * Serves one control WebSocket. Every frame passes, in order: the request-rate bucket, the size limit,
 * the schema (protocol/envelope.ts), the pending limit; then it is queued and handled strictly in order,
 * so a client may pipeline (logon, then sameNat) without waiting. Refusals are answered with a typed
 * error and count as strikes; when the strikes run out, this connection alone is closed.
 */
export function serveControlConnection(
  ctx: ServerContext,
  socket: WebSocket,
  registeredAddress: Endpoint,
): void {
  const { options, metrics, log } = ctx;
  const conn = new ControlConnection(socket, registeredAddress);
  const requests = new TokenBucket(options.messageBurst, options.messagesPerSecond);
  // Replies to offers this device was sent (answers, declines) come from their own bucket: a buddy's
  // offers must not use up this client's request limit and get it disconnected (issue 14, row 1).
  const replies = new TokenBucket(options.messageBurst, options.messagesPerSecond);
  const strikes = new TokenBucket(options.abuseStrikes, options.abuseForgivenPerSecond);
  const queue: Request[] = [];
  let running = false;
  const connLog = log.child({ conn: conn.id });

  // A connection that never logs on holds a descriptor for nothing: it gets logonDeadlineSeconds.
  const logonDeadline = setTimeout(() => {
    if (!conn.identity && !conn.closed) conn.close(CLOSE_CODES.policyViolation, 'log on in time');
  }, options.logonDeadlineSeconds * 1000);
  logonDeadline.unref();

  ctx.connections.set(conn.id, conn);
  metrics.connections.inc();
  connLog.debug({ addr: ctx.addressTag(registeredAddress.host) }, 'control connection opened');

  const refuse = (id: number | null, code: ErrorCode, message: string): void => {
    metrics.countError(code);
    conn.replyError(id, code, message);
    if (STRIKE_CODES.has(code) && !strikes.tryTake()) {
      connLog.info({ code }, 'closing a connection that kept sending refused messages');
      conn.close(CLOSE_CODES.policyViolation, 'too many refused messages');
    }
  };

  const drain = async (): Promise<void> => {
    running = true;
    for (let request = queue.shift(); request; request = queue.shift()) {
      if (conn.closed) break;
      try {
        const result = await dispatch(ctx, conn, request);
        conn.replyOk(request.id, result);
      } catch (err) {
        if (err instanceof ProtocolError) refuse(request.id, err.code, err.message);
        else {
          connLog.error({ err: describeError(err), type: request.type }, 'request failed');
          refuse(request.id, 'INTERNAL', 'internal error');
        }
      }
    }
    running = false;
  };

  // Refusals carry the request's id whenever it can be read, so that a client's pending call fails at
  // once instead of timing out; reading it costs one JSON.parse of a frame already bounded by maxPayload.
  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (conn.closed) return;
    if (isBinary) return refuse(null, 'BAD_REQUEST', 'control messages are JSON text frames');
    const text = frameText(data);
    if (ctx.lifecycle.shuttingDown) return refuse(readId(text), 'SHUTTING_DOWN', 'server is shutting down');
    if (Buffer.byteLength(text) > options.maxMessageBytes)
      return refuse(readId(text), 'TOO_LARGE', `message larger than ${options.maxMessageBytes} bytes`);
    if (!requests.tryTake()) return refuse(readId(text), 'RATE_LIMITED', 'too many requests');
    const parsed = parseRequest(text);
    if (!parsed.ok) return refuse(parsed.id, parsed.error.code, parsed.error.message);
    if (isReplyToOffer(ctx, conn, parsed.request) && replies.tryTake()) requests.giveBack();
    const pending = queue.length + (running ? 1 : 0);
    if (pending >= options.maxPending)
      return refuse(parsed.request.id, 'RATE_LIMITED', 'too many pending requests');
    queue.push(parsed.request);
    if (!running) void drain();
  });

  socket.on('error', (err) => {
    // ws reports oversized frames (over maxFrameBytes, closed with 1009) and protocol violations here.
    const code = (err as { code?: string }).code;
    metrics.countError(code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'TOO_LARGE' : 'BAD_REQUEST');
    connLog.info({ err: { code, message: err.message } }, 'control socket error');
  });

  socket.on('close', () => {
    clearTimeout(logonDeadline);
    conn.markClosed();
    queue.length = 0;
    ctx.connections.delete(conn.id);
    metrics.connections.dec();
    connLog.debug('control connection closed');
    logOffDevice(ctx, conn).catch((err: unknown) =>
      connLog.error({ err: describeError(err) }, 'logoff after close failed'),
    );
  });
}

/** A signal answer or abort in a session whose offer this connection received. */
function isReplyToOffer(ctx: ServerContext, conn: ControlConnection, request: Request): boolean {
  if (request.type !== 'signal' || request.body.purpose === 'offer' || !conn.identity) return false;
  const me = conn.identity.user;
  return ctx.signalRoutes.deviceOf(me, request.to, request.body.session, me) === conn.id;
}

/** The id of a frame that will be refused before full validation; null when unreadable. */
function readId(text: string): number | null {
  try {
    const id = (JSON.parse(text) as { id?: unknown } | null)?.id;
    return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= 2 ** 31 ? id : null;
  } catch {
    return null;
  }
}

function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

/** Errors are logged by class and message only: a stack or an object might carry a client address. */
export function describeError(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'unknown', message: String(err) };
}
