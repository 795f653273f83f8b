import { performance } from 'node:perf_hooks';
import { LoadClient } from '../load-clients.js';
import type { GeneratorCommand, GeneratorReport } from './generator-protocol.js';

/**
 * A load-generator child of the cluster benchmark (forked, commands over IPC). One process holds at most
 * ~19,900 sockets here (20,000-descriptor hard limit), so 100,000 clients need several of these. It logs
 * on its share of bench users (`u<from>`…`u<to-1>`, user i on node `i % urls.length`) with `window`
 * logons in flight, reports, holds the sockets until told to close, then exits.
 *
 * Bounded: every attempt has a deadline, a node that keeps refusing is given up (its fd limit is reached:
 * the point of a fill run), and the process exits by itself when its parent goes away or its lifetime ends.
 */

const held: LoadClient[] = [];
let lifetime: NodeJS.Timeout | undefined;

function send(report: GeneratorReport): void {
  process.send?.(report);
}

function quit(code: number): never {
  for (const c of held) c.socket.terminate();
  process.exit(code);
}

process.on('disconnect', () => quit(0));

async function attempt(index: number, url: string, mode: 'logon' | 'echo', timeoutMs: number) {
  const client = new LoadClient(index, url);
  // terminate() fails opened() or answers a pending request with CLOSED: nothing waits past the deadline.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    client.socket.terminate();
  }, timeoutMs);
  try {
    await client.opened();
    const answer =
      mode === 'logon' ? await client.logon() : await client.request('echo', { user: `u${index}` });
    if (!answer.ok) throw new Error(`refused ${answer.code ?? 'unknown'}`);
    return client;
  } catch (error) {
    client.socket.terminate();
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(timedOut ? 'timeout' : (code ?? (error as Error).message).slice(0, 80));
  } finally {
    clearTimeout(timer);
  }
}

async function logOn(c: Extract<GeneratorCommand, { cmd: 'logon' }>): Promise<void> {
  const startedAt = performance.timeOrigin + performance.now();
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  // A node that failed this many attempts in a row is full (or gone): its remaining users are skipped.
  const streak = new Array<number>(c.urls.length).fill(0);
  const perNode = new Array<number>(c.urls.length).fill(0);
  let connected = 0;
  let failed = 0;
  let skipped = 0;
  let next = c.from;
  const progress = setInterval(() => send({ type: 'progress', connected, failed, skipped }), 1000);
  const worker = async (): Promise<void> => {
    for (let index = next++; index < c.to; index = next++) {
      const node = index % c.urls.length;
      if ((streak[node] ?? 0) >= c.giveUpAfter) {
        skipped++;
        continue;
      }
      const t0 = performance.now();
      try {
        held.push(await attempt(index, c.urls[node] ?? '', c.mode, c.attemptTimeoutMs));
        latencies.push(performance.now() - t0);
        streak[node] = 0;
        perNode[node] = (perNode[node] ?? 0) + 1;
        connected++;
      } catch (error) {
        failed++;
        streak[node] = (streak[node] ?? 0) + 1;
        const key = (error as Error).message;
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, c.window) }, worker));
  clearInterval(progress);
  const endedAt = performance.timeOrigin + performance.now();
  const full = c.urls.filter((_, i) => (streak[i] ?? 0) >= c.giveUpAfter);
  send({
    type: 'logged-on',
    connected,
    perNode,
    failed,
    skipped,
    errors,
    full,
    startedAt,
    endedAt,
    latencies,
  });
}

/** A random sample of held clients answers a request: the sockets are alive, not just counted. */
async function probe(count: number, mode: 'logon' | 'echo', timeoutMs: number): Promise<void> {
  const open = held.filter((c) => c.open).length;
  const sample = Array.from(
    { length: Math.min(count, held.length) },
    () => held[Math.floor(Math.random() * held.length)]!,
  );
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
  const answers = await Promise.all(
    sample.map((c) => Promise.race([c.request(mode === 'logon' ? 'ping' : 'echo'), timeout])),
  );
  const answered = answers.filter((a) => a !== 'timeout' && a.ok).length;
  send({ type: 'probed', held: held.length, open, asked: sample.length, answered });
}

let mode: 'logon' | 'echo' = 'logon';
process.on('message', (message: GeneratorCommand) => {
  void (async () => {
    try {
      if (message.cmd === 'logon') {
        mode = message.mode;
        clearTimeout(lifetime);
        lifetime = setTimeout(() => quit(3), message.lifetimeMs);
        lifetime.unref();
        await logOn(message);
      } else if (message.cmd === 'probe') {
        await probe(message.count, mode, message.timeoutMs);
      } else if (message.cmd === 'close') {
        quit(0);
      }
    } catch (error) {
      send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  })();
});
send({ type: 'ready' });
