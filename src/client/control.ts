import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  PROTOCOL_LIMITS,
  PROTOCOL_VERSION,
  ProtocolError,
  type Request,
  type RequestType,
  type Result,
  replySchema,
  resultSchemas,
  type ServerEvent,
  serverEvent,
} from '../protocol/index.js';
import { BadReplyError, DisconnectedError, TimeoutError } from './errors.js';

/** The fields of a request that the caller gives; the channel adds `v`, `id` and `type`. */
export type RequestFields<T extends RequestType> = Omit<Request<T>, 'v' | 'id' | 'type'>;

interface Pending {
  type: RequestType;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The control channel to the server (SPEC §3.1): one WebSocket, JSON requests with ids, replies and
 * pushed events, each validated against the protocol's schemas before anyone sees it.
 */
export class ControlChannel extends EventEmitter<{ event: [ServerEvent]; close: [] }> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(
    private readonly ws: WebSocket,
    private readonly requestTimeoutMs: number,
  ) {
    super();
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.onFrame(data.toString());
    });
    ws.on('close', () => this.onClose());
    ws.on('error', () => this.onClose());
  }

  /** `localAddress` picks the source address (a multi-homed host; loopback tests of two NATs). */
  static open(url: string, requestTimeoutMs: number, localAddress?: string): Promise<ControlChannel> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        maxPayload: PROTOCOL_LIMITS.maxMessageBytes * 4,
        ...(localAddress ? { localAddress } : {}),
      });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new TimeoutError(`connecting to ${url}`, requestTimeoutMs));
      }, requestTimeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        ws.removeAllListeners('error');
        resolve(new ControlChannel(ws, requestTimeoutMs));
      });
      ws.once('error', (error) => {
        clearTimeout(timer);
        reject(new DisconnectedError(`cannot reach the server at ${url}: ${error.message}`));
      });
    });
  }

  /**
   * Opens the first of several nodes' URLs that answers, trying them in turn from `start` (a client
   * that lost one node tries the next first); the error of the last when none does.
   */
  static async openAny(
    urls: readonly string[],
    start: number,
    requestTimeoutMs: number,
    localAddress?: string,
  ): Promise<{ channel: ControlChannel; index: number }> {
    let lastError: unknown = new DisconnectedError('no server URL');
    for (let i = 0; i < urls.length; i++) {
      const index = (start + i) % urls.length;
      try {
        return {
          channel: await ControlChannel.open(urls[index] ?? '', requestTimeoutMs, localAddress),
          index,
        };
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  request<T extends RequestType>(type: T, fields: RequestFields<T>): Promise<Result<T>> {
    if (!this.isOpen) return Promise.reject(new DisconnectedError());
    const id = this.nextId++;
    const frame = JSON.stringify({ v: PROTOCOL_VERSION, id, type, ...fields });
    return new Promise<Result<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError(`server request ${type}`, this.requestTimeoutMs));
      }, this.requestTimeoutMs);
      this.pending.set(id, { type, resolve: resolve as (r: unknown) => void, reject, timer });
      this.ws.send(frame);
    });
  }

  close(): void {
    if (this.closed) return;
    this.ws.close(1000);
    this.onClose();
  }

  private onFrame(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof json === 'object' && json !== null && 'event' in json) {
      const event = serverEvent.safeParse(json);
      if (event.success) this.emit('event', event.data);
      return;
    }
    const reply = replySchema.safeParse(json);
    if (!reply.success || reply.data.id === null) return;
    const pending = this.pending.get(reply.data.id);
    if (!pending) return;
    this.pending.delete(reply.data.id);
    clearTimeout(pending.timer);
    if (!reply.data.ok) {
      pending.reject(new ProtocolError(reply.data.error.code, reply.data.error.message));
      return;
    }
    const result = resultSchemas[pending.type].safeParse(reply.data.result);
    if (result.success) pending.resolve(result.data);
    else pending.reject(new BadReplyError(`the server's ${pending.type} reply does not match the protocol`));
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new DisconnectedError('the server connection closed'));
      this.pending.delete(id);
    }
    this.emit('close');
  }
}
