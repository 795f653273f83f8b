import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { type CloseCode, closeCodeOf, type MessageErrorCode, MuxError } from './errors.js';
import { encodeFrame, type Frame, FrameParser, FrameType, type FrameTypeCode } from './frames.js';
import { decodeValue, encodeValue } from './messages.js';
import { MuxStream, type StreamLink } from './mux-stream.js';

export interface MuxOptions {
  /** Per-stream flow-control window: bytes a sender may have in flight (default 256 KiB). */
  windowBytes?: number;
  /** Largest message, request or reply, encoded (default 1 MiB). */
  maxMessageBytes?: number;
  /** Streams the peer may have open at once; more are refused (default 256). */
  maxStreams?: number;
  /** Requests from the peer being handled at once; more are answered BUSY (default 64). */
  maxPendingRequests?: number;
  /** A request with no reply by then rejects with TIMEOUT (default 30 s). */
  requestTimeoutMs?: number;
  /**
   * Nothing heard from the peer for this long closes the mux with IDLE_TIMEOUT; a ping goes out at a
   * third of it, so a live but quiet peer always answers (default 0: off, the transport's own applies).
   */
  idleTimeoutMs?: number;
}

export interface MuxEvents {
  /** The peer opened a stream. With no listener, the peer's open is refused. */
  stream: [MuxStream];
  /** A message from `send()`. */
  message: [unknown];
  /** The mux is closed; `code` says why (see the close reasons table). */
  close: [{ code: CloseCode; error?: Error }];
}

/** Answers a peer's `request()`; a throw becomes the requester's REQUEST_FAILED with its message. */
export type RequestHandler = (value: unknown) => unknown | Promise<unknown>;

const DEFAULTS = {
  windowBytes: 256 * 1024,
  maxMessageBytes: 1024 * 1024,
  maxStreams: 256,
  maxPendingRequests: 64,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 0,
};

/** DATA frames are cut at this size so small streams and messages interleave with bulk ones. */
const MAX_DATA_BYTES = 64 * 1024;
/** Closing waits this long for the carrier to flush before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  cleanup: () => void;
}

/**
 * Several streams and messages over one Duplex (a buddy connection, or any byte stream): each
 * stream has its own flow control, opening one costs a frame (no server round trip), and messages
 * and requests are framed and size-limited. Both ends must wrap the same connection.
 *
 * Nothing the peer sends can throw out of here: bad frames close the mux with PROTOCOL_ERROR, and
 * errors of the carrying stream end it with a typed close code.
 */
export class Mux extends EventEmitter<MuxEvents> implements StreamLink {
  readonly maxDataBytes = MAX_DATA_BYTES;
  /** Set once closed: why. */
  closeCode: CloseCode | undefined;
  private readonly options: typeof DEFAULTS;
  private readonly parser: FrameParser;
  private readonly localStreams = new Map<number, MuxStream>();
  private readonly remoteStreams = new Map<number, MuxStream>();
  private readonly pending = new Map<number, Pending>();
  private nextStreamId = 1;
  private nextRequestId = 1;
  private handling = 0;
  private handler: RequestHandler | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private readonly onEnd = () => {
    this.shutdown('PEER_CLOSED');
    // The peer closed the mux: end ours too, so the carrier closes now rather than stay half-open.
    if (!this.carrier.writableEnded) this.carrier.end();
  };
  private readonly onError = (error: Error) => this.shutdown(closeCodeOf(error), error);
  private readonly onClose = () => this.shutdown(this.closeCode ?? 'PEER_CLOSED');

  constructor(
    private readonly carrier: Duplex,
    options: MuxOptions = {},
  ) {
    super();
    this.options = { ...DEFAULTS, ...definedOnly(options) };
    this.parser = new FrameParser(Math.max(MAX_DATA_BYTES, this.options.maxMessageBytes));
    carrier.on('data', this.onData);
    carrier.once('end', this.onEnd);
    carrier.on('error', this.onError);
    carrier.once('close', this.onClose);
    if (carrier.destroyed) queueMicrotask(() => this.shutdown('PEER_CLOSED'));
    this.armIdle();
  }

  /** True once the mux is closed. */
  get closed(): boolean {
    return this.closeCode !== undefined;
  }

  /** Opens a stream to the peer at once: no round trip; the peer sees it as a 'stream' event. */
  openStream(): MuxStream {
    if (this.closeCode) throw new MuxError(this.closeCode, 'the connection is closed');
    const id = this.nextStreamId++;
    const stream = new MuxStream(this, id, true, this.options.windowBytes);
    this.localStreams.set(id, stream);
    this.write(FrameType.OPEN, true, id);
    return stream;
  }

  /** Sends one message (JSON value or bytes); the peer gets it as a 'message' event. */
  send(value: unknown): void {
    if (this.closeCode) throw new MuxError(this.closeCode, 'the connection is closed');
    this.write(FrameType.MESSAGE, true, 0, encodeValue(value, this.options.maxMessageBytes));
  }

  /** Sends a request and resolves with the peer's reply (its handler's return value). */
  request(value: unknown, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<unknown> {
    if (this.closeCode) return Promise.reject(new MuxError(this.closeCode, 'the connection is closed'));
    let payload: Buffer;
    try {
      payload = encodeValue(value, this.options.maxMessageBytes);
    } catch (error) {
      return Promise.reject(error);
    }
    if (options.signal?.aborted) return Promise.reject(new MuxError('ABORTED', 'request cancelled'));
    const id = this.nextRequestId++;
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const onAbort = () => this.settle(id, new MuxError('ABORTED', 'request cancelled'));
      const timer = setTimeout(
        () => this.settle(id, new MuxError('TIMEOUT', `no reply within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { resolve, reject, timer, cleanup });
      this.write(FrameType.REQUEST, true, id, payload);
    });
  }

  /** Sets the function that answers the peer's requests (without one they fail with NO_HANDLER). */
  handle(handler: RequestHandler | undefined): void {
    this.handler = handler;
  }

  /** Ends the carrying stream after what is queued; open streams and requests end with LOCAL_CLOSE. */
  async close(): Promise<void> {
    if (this.closeCode) return;
    const closed = new Promise<void>((resolve) => {
      if (this.carrier.destroyed) resolve();
      else this.carrier.once('close', () => resolve());
    });
    this.shutdown('LOCAL_CLOSE');
    this.carrier.end();
    const timer = setTimeout(() => this.carrier.destroy(), CLOSE_GRACE_MS);
    await closed;
    clearTimeout(timer);
  }

  /** Closes at once: the carrying stream is destroyed. */
  destroy(): void {
    this.shutdown('LOCAL_CLOSE');
    this.carrier.destroy();
  }

  // ---- StreamLink: what streams ask of the mux ----

  /** @internal */
  sendData(stream: MuxStream, chunk: Buffer): void {
    this.write(FrameType.DATA, stream.local, stream.id, chunk);
  }
  /** @internal */
  sendEnd(stream: MuxStream): void {
    this.write(FrameType.END, stream.local, stream.id);
  }
  /** @internal */
  sendReset(stream: MuxStream, code: CloseCode): void {
    this.write(FrameType.RESET, stream.local, stream.id, Buffer.from(code));
  }
  /** @internal */
  sendCredit(stream: MuxStream, bytes: number): void {
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(bytes);
    this.write(FrameType.CREDIT, stream.local, stream.id, payload);
  }
  /** @internal */
  whenWritable(): Promise<void> {
    if (!this.carrier.writableNeedDrain || this.closeCode) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.carrier.off('drain', done);
        this.carrier.off('close', done);
        resolve();
      };
      this.carrier.once('drain', done);
      this.carrier.once('close', done);
    });
  }
  /** @internal */
  forget(stream: MuxStream): void {
    (stream.local ? this.localStreams : this.remoteStreams).delete(stream.id);
  }

  // ---- receiving ----

  private receive(chunk: Buffer): void {
    if (this.closeCode) return;
    this.armIdle();
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch (error) {
      const code = error instanceof MuxError ? (error.code as CloseCode) : 'PROTOCOL_ERROR';
      this.shutdown(code, error as Error);
      this.carrier.destroy();
      return;
    }
    for (const frame of frames) {
      if (this.closeCode) return;
      this.dispatch(frame);
    }
  }

  private dispatch(frame: Frame): void {
    // A frame the sender marks as its own names our remote stream, and the other way round.
    const stream = (frame.opener ? this.remoteStreams : this.localStreams).get(frame.id);
    switch (frame.type) {
      case FrameType.OPEN:
        this.onOpen(frame);
        return;
      case FrameType.DATA:
        stream?.onData(frame.payload);
        return;
      case FrameType.END:
        stream?.onEnd();
        return;
      case FrameType.RESET: {
        const said = frame.payload.toString('utf8', 0, 40);
        const code: CloseCode = said === 'STREAM_REFUSED' ? 'STREAM_REFUSED' : 'STREAM_RESET';
        stream?.fail(code, `the peer reset the stream (${said.replace(/[^A-Z_]/g, '') || 'no reason'})`);
        return;
      }
      case FrameType.CREDIT:
        if (frame.payload.length === 4) stream?.onCredit(frame.payload.readUInt32BE(0));
        return;
      case FrameType.MESSAGE:
        this.onMessage(frame.payload);
        return;
      case FrameType.REQUEST:
        void this.onRequest(frame.id, frame.payload);
        return;
      case FrameType.REPLY:
      case FrameType.REPLY_ERROR:
        this.onReply(frame);
        return;
      case FrameType.PING:
        this.write(FrameType.PONG, false, 0);
        return;
      case FrameType.PONG:
        return;
    }
  }

  private onOpen(frame: Frame): void {
    const refuse = () => this.write(FrameType.RESET, false, frame.id, Buffer.from('STREAM_REFUSED'));
    if (!frame.opener || this.remoteStreams.has(frame.id)) {
      this.shutdown('PROTOCOL_ERROR', new MuxError('PROTOCOL_ERROR', 'a stream opened twice'));
      this.carrier.destroy();
      return;
    }
    if (this.remoteStreams.size >= this.options.maxStreams || this.listenerCount('stream') === 0) {
      refuse();
      return;
    }
    const stream = new MuxStream(this, frame.id, false, this.options.windowBytes);
    this.remoteStreams.set(frame.id, stream);
    this.emit('stream', stream);
  }

  private onMessage(payload: Buffer): void {
    let value: unknown;
    try {
      value = decodeValue(payload);
    } catch {
      return; // a malformed message is dropped, like a bad datagram
    }
    this.emit('message', value);
  }

  private async onRequest(id: number, payload: Buffer): Promise<void> {
    const fail = (code: MessageErrorCode, message: string) =>
      this.write(FrameType.REPLY_ERROR, false, id, Buffer.from(JSON.stringify({ code, message })));
    if (!this.handler) return fail('NO_HANDLER', 'the peer answers no requests');
    if (this.handling >= this.options.maxPendingRequests) return fail('BUSY', 'too many requests at once');
    let value: unknown;
    try {
      value = decodeValue(payload);
    } catch (error) {
      return fail('BAD_MESSAGE', (error as Error).message);
    }
    this.handling++;
    try {
      const answer = await this.handler(value);
      if (this.closeCode) return;
      let encoded: Buffer;
      try {
        encoded = encodeValue(answer, this.options.maxMessageBytes);
      } catch (error) {
        return fail('REQUEST_FAILED', (error as Error).message);
      }
      this.write(FrameType.REPLY, false, id, encoded);
    } catch (error) {
      if (!this.closeCode) fail('REQUEST_FAILED', error instanceof Error ? error.message : String(error));
    } finally {
      this.handling--;
    }
  }

  private onReply(frame: Frame): void {
    if (frame.opener || !this.pending.has(frame.id)) return;
    if (frame.type === FrameType.REPLY) {
      let value: unknown;
      try {
        value = decodeValue(frame.payload);
      } catch (error) {
        this.settle(frame.id, error as Error);
        return;
      }
      this.settle(frame.id, undefined, value);
      return;
    }
    this.settle(frame.id, replyError(frame.payload));
  }

  private settle(id: number, error: Error | undefined, value?: unknown): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    pending.cleanup();
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  // ---- sending and closing ----

  private write(type: FrameTypeCode, opener: boolean, id: number, payload?: Buffer): void {
    if (this.carrier.destroyed || this.carrier.writableEnded) return;
    this.carrier.write(encodeFrame(type, opener, id, payload));
  }

  private armIdle(): void {
    const idle = this.options.idleTimeoutMs;
    if (idle <= 0 || this.closeCode) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.shutdown('IDLE_TIMEOUT', new MuxError('IDLE_TIMEOUT', `nothing heard for ${idle} ms`));
      this.carrier.destroy();
    }, idle);
    if (!this.pingTimer) {
      this.pingTimer = setInterval(() => this.write(FrameType.PING, true, 0), Math.max(50, idle / 3));
    }
  }

  /** Once: every stream and pending request ends with `code`, and 'close' tells the app why. */
  private shutdown(code: CloseCode, error?: Error): void {
    if (this.closeCode) return;
    this.closeCode = code;
    clearTimeout(this.idleTimer);
    clearInterval(this.pingTimer);
    this.carrier.off('data', this.onData);
    const why = `the connection closed (${code}${error ? `: ${error.message}` : ''})`;
    for (const stream of [...this.localStreams.values(), ...this.remoteStreams.values()]) {
      stream.fail(code, why);
    }
    for (const id of [...this.pending.keys()]) this.settle(id, new MuxError(code, why));
    this.emit('close', error ? { code, error } : { code });
  }
}

const replyErrorSchema = z.object({
  code: z.enum(['REQUEST_FAILED', 'NO_HANDLER', 'BUSY', 'BAD_MESSAGE']).catch('REQUEST_FAILED'),
  message: z.string().max(2000).catch('request failed'),
});

/** The peer's failure reply, checked before use; anything malformed is a plain REQUEST_FAILED. */
function replyError(payload: Buffer): MuxError {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return new MuxError('REQUEST_FAILED', 'request failed');
  }
  const parsed = replyErrorSchema.safeParse(json);
  if (!parsed.success) return new MuxError('REQUEST_FAILED', 'request failed');
  return new MuxError(parsed.data.code, parsed.data.message);
}

function definedOnly(options: MuxOptions): Partial<typeof DEFAULTS> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(options)) {
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) out[name] = value;
  }
  return out;
}
