import WebSocket from 'ws';

/** A bare control-channel client for the cluster benchmark: requests by id, events by waiter. */
export class WireClient {
  #nextId = 1;
  readonly #waiting = new Map<number, (reply: { ok: boolean; result?: unknown; error?: unknown }) => void>();
  #onEvent: ((event: { event: string; [k: string]: unknown }) => void) | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id?: number; ok?: boolean; event?: string };
      if (typeof msg.event === 'string') this.#onEvent?.(msg as { event: string });
      else if (typeof msg.id === 'number') this.#waiting.get(msg.id)?.(msg as { ok: boolean });
    });
    socket.on('error', () => {});
  }

  static connect(url: string): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      socket.once('open', () => resolve(new WireClient(socket)));
      socket.once('error', reject);
    });
  }

  onEvent(listener: (event: { event: string; [k: string]: unknown }) => void): void {
    this.#onEvent = listener;
  }

  async ok(type: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    const reply = await new Promise<{ ok: boolean; result?: unknown; error?: unknown }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${type}`)), 30_000);
      this.#waiting.set(id, (r) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(r);
      });
      this.socket.send(JSON.stringify({ v: 1, id, type, ...fields }));
    });
    if (!reply.ok) throw new Error(`${type}: ${JSON.stringify(reply.error)}`);
    return (reply.result ?? {}) as Record<string, unknown>;
  }

  close(): void {
    this.socket.terminate();
  }
}
