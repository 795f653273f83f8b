import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { errorReply, eventFrame, okReply } from '../protocol/envelope.js';
import type { ErrorCode } from '../protocol/errors.js';
import type { ServerEvent } from '../protocol/events.js';
import type { Endpoint } from '../protocol/fields.js';

/** Who a connection is logged on as; undefined before logon and after logoff. */
export interface Identity {
  user: string;
  device: string;
  listen: boolean;
  /** Hash of the session token this logon holds, so that logoff can revoke it. */
  tokenHash: string;
}

/** WebSocket close codes the server uses (4000–4999 are for applications, RFC 6455 §7.4.2). */
export const CLOSE_CODES = {
  goingAway: 1001,
  policyViolation: 1008,
} as const;

/** One client's control WebSocket: its registered address, identity and outgoing frames. */
export class ControlConnection {
  readonly id = randomBytes(8).toString('hex');
  identity: Identity | undefined;
  #closed = false;

  constructor(
    readonly socket: WebSocket,
    /** S21: the address the server saw; kept in memory only while the connection lives. */
    readonly registeredAddress: Endpoint,
  ) {}

  get closed(): boolean {
    return this.#closed || this.socket.readyState !== this.socket.OPEN;
  }

  markClosed(): void {
    this.#closed = true;
  }

  replyOk(id: number, result: unknown): void {
    this.#send(okReply(id, result));
  }

  replyError(id: number | null, code: ErrorCode, message: string): void {
    this.#send(errorReply(id, { code, message }));
  }

  sendEvent(event: DistributiveOmit<ServerEvent, 'v'>): void {
    this.#send(eventFrame(event));
  }

  close(code: number, reason: string): void {
    this.#closed = true;
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, reason);
    }
  }

  #send(text: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(text);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
