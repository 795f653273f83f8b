import WebSocket from 'ws';

/**
 * Memory of a benchmark child after a full garbage collection, through its inspector (the child runs
 * with `--inspect=127.0.0.1:0`): RSS alone counts garbage not yet collected, which after 17,000 logons
 * varied 340–640 MiB between nodes holding the same clients.
 */

/** The inspector URL a child prints on stderr at start-up ("Debugger listening on ws://…"). */
export function inspectorUrl(stderrText: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(stderrText)?.[1];
}

/** Collects garbage in the child and returns its V8 heap in use afterwards (bytes); NaN if unreachable. */
export async function collectGarbage(url: string | undefined, timeoutMs = 30_000): Promise<number> {
  if (!url) return Number.NaN;
  const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
  const replies = new Map<number, (result: Record<string, unknown>) => void>();
  socket.on('message', (data) => {
    const m = JSON.parse(data.toString()) as { id?: number; result?: Record<string, unknown> };
    if (typeof m.id === 'number') replies.get(m.id)?.(m.result ?? {});
  });
  const call = (id: number, method: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      replies.set(id, resolve);
      socket.send(JSON.stringify({ id, method }));
    });
  const timer = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('inspector timeout')), timeoutMs).unref(),
  );
  try {
    await Promise.race([
      new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject)),
      timer,
    ]);
    // Twice: the first pass may leave weakly held objects for the second.
    await Promise.race([call(1, 'HeapProfiler.collectGarbage'), timer]);
    await Promise.race([call(2, 'HeapProfiler.collectGarbage'), timer]);
    const usage = await Promise.race([call(3, 'Runtime.getHeapUsage'), timer]);
    return Number(usage.usedSize);
  } catch {
    return Number.NaN;
  } finally {
    // A child with a session still attached would wait for it at exit.
    socket.terminate();
  }
}
