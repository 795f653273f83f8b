import WebSocket from 'ws';

/**
 * Memory of a benchmark child after a full garbage collection, through its inspector (the child runs
 * with `--inspect=127.0.0.1:0`): RSS alone counts garbage not yet collected, which after 17,000 logons
 * varied 340–640 MiB between nodes holding the same clients. The session is opened before the load, so
 * that a node filled to its descriptor limit can still be asked (a new connection would need a descriptor).
 */

/** The inspector URL a child prints on stderr at start-up ("Debugger listening on ws://…"). */
export function inspectorUrl(stderrText: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(stderrText)?.[1];
}

export class InspectorSession {
  #nextId = 1;
  readonly #replies = new Map<number, (result: Record<string, unknown>) => void>();

  private constructor(private readonly socket: WebSocket | undefined) {
    socket?.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { id?: number; result?: Record<string, unknown> };
      if (typeof m.id === 'number') this.#replies.get(m.id)?.(m.result ?? {});
    });
    socket?.on('error', () => {});
  }

  /** A session on `url`; one that cannot connect answers NaN (the figure is then missing, not wrong). */
  static async open(url: string | undefined, timeoutMs = 30_000): Promise<InspectorSession> {
    if (!url) return new InspectorSession(undefined);
    const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    try {
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      return new InspectorSession(socket);
    } catch {
      socket.terminate();
      return new InspectorSession(undefined);
    }
  }

  /** Collects garbage (twice: weakly held objects may need a second pass); the V8 heap in use after. */
  async collectGarbage(timeoutMs = 30_000): Promise<number> {
    if (this.socket?.readyState !== WebSocket.OPEN) return Number.NaN;
    try {
      await this.#call('HeapProfiler.collectGarbage', timeoutMs);
      await this.#call('HeapProfiler.collectGarbage', timeoutMs);
      return Number((await this.#call('Runtime.getHeapUsage', timeoutMs)).usedSize);
    } catch {
      return Number.NaN;
    }
  }

  /** A child with a session still attached would wait for it at exit. */
  close(): void {
    this.socket?.terminate();
  }

  #call(method: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#replies.delete(id);
        reject(new Error(`inspector: no answer to ${method}`));
      }, timeoutMs);
      this.#replies.set(id, (result) => {
        clearTimeout(timer);
        this.#replies.delete(id);
        resolve(result);
      });
      this.socket?.send(JSON.stringify({ id, method }));
    });
  }
}
