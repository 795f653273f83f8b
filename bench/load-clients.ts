import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../src/protocol/version.js';
import { benchSourceAddress, benchToken, benchUser } from './load-accounts.js';

/**
 * The load generator's clients: bare control-channel speakers of the protocol (src/protocol), one
 * WebSocket each, bound to their own 127.x.y.z source address. Not the product's client library: that
 * one also runs UDX and Noise per client, which would make the generator, not the server, the thing
 * measured.
 *
 * Replies are checked structurally (an object with a numeric id and a boolean ok), not with the zod
 * reply schema: the generator's CPU is the limit of the measurement, the server is our own, and the
 * only fields read are id, ok and result.same / error.code, each type-checked where read.
 */

export interface Answer {
  ok: boolean;
  /** result.same of a sameNat reply, when there is one. */
  same?: boolean;
  /** error.code of a refusal. */
  code?: string;
}

export class LoadClient {
  readonly index: number;
  readonly socket: WebSocket;
  /** Server events seen (presence of buddies logging on, …), to show presence was on. */
  events = 0;
  #nextId = 1;
  readonly #pending = new Map<number, (answer: Answer) => void>();

  constructor(index: number, url: string) {
    this.index = index;
    this.socket = new WebSocket(url, {
      localAddress: benchSourceAddress(index),
      perMessageDeflate: false,
      handshakeTimeout: 30_000,
    });
    this.socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (!isBinary) this.#receive(data.toString());
    });
    this.socket.on('close', () => {
      for (const resolve of this.#pending.values()) resolve({ ok: false, code: 'CLOSED' });
      this.#pending.clear();
    });
    this.socket.on('error', () => {});
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  opened(): Promise<void> {
    if (this.open) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
      this.socket.once('close', () => reject(new Error('closed before open')));
    });
  }

  /** Sends one request `{v, id, type, ...fields}` and resolves with its reply (or CLOSED). */
  request(type: string, fields: Record<string, unknown> = {}): Promise<Answer> {
    // A socket the server closed (heartbeat, abuse) answers nothing more: say so at once, or a load
    // loop waiting on it would never end.
    if (!this.open) return Promise.resolve({ ok: false, code: 'CLOSED' });
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.socket.send(JSON.stringify({ v: PROTOCOL_VERSION, id, type, ...fields }));
    });
  }

  /** Logs on as bench user `index` with its session token (the reconnect path). */
  logon(): Promise<Answer> {
    return this.request('logon', {
      user: benchUser(this.index),
      token: benchToken(this.index),
      device: 'bench',
      listen: true,
    });
  }

  #receive(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (!message || typeof message !== 'object') return;
    const m = message as { id?: unknown; ok?: unknown; event?: unknown; result?: unknown; error?: unknown };
    if (typeof m.id === 'number') {
      const resolve = this.#pending.get(m.id);
      if (!resolve) return;
      this.#pending.delete(m.id);
      // The bare ws floor echoes the request back: no `ok`, which counts as an answer.
      const ok = m.ok === true || m.ok === undefined;
      const same = (m.result as { same?: unknown } | undefined)?.same;
      const code = (m.error as { code?: unknown } | undefined)?.code;
      resolve({
        ok,
        ...(typeof same === 'boolean' ? { same } : {}),
        ...(typeof code === 'string' ? { code } : {}),
      });
    } else if (typeof m.event === 'string') {
      this.events++;
    }
  }
}

export interface ConnectOutcome {
  connected: number;
  failed: number;
  firstError?: string;
  ms: number;
}

/**
 * Opens clients `from`…`to-1` with at most `concurrency` handshakes in flight (a burst of SYNs beyond
 * the listen backlog would measure the backlog), each logging on (buddylink) or exchanging one echo
 * (the floor) before it counts as held.
 */
export async function connectClients(
  into: LoadClient[],
  url: string,
  from: number,
  to: number,
  mode: 'logon' | 'echo',
  concurrency: number,
): Promise<ConnectOutcome> {
  const started = performance.now();
  let next = from;
  let connected = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < to; index = next++) {
      const client = new LoadClient(index, url);
      try {
        await client.opened();
        const answer =
          mode === 'logon' ? await client.logon() : await client.request('echo', { user: benchUser(index) });
        if (!answer.ok) throw new Error(`logon refused: ${answer.code ?? 'unknown'}`);
        into.push(client);
        connected++;
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
        client.socket.terminate();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return { connected, failed, ...(firstError ? { firstError } : {}), ms: performance.now() - started };
}
