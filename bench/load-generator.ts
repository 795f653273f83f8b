import { performance } from 'node:perf_hooks';
import { benchBuddies, benchUser } from './load-accounts.js';
import { type Answer, connectClients, type LoadClient } from './load-clients.js';
import { serveCommands } from './load-process.js';

/**
 * Child process of the scale benchmarks: holds clients and drives load, separate from the server so that
 * the server's CPU and memory are its own. Commands on stdin (one JSON answer line each):
 *   {cmd:'connect', url, mode, from, to, concurrency}   open and log on clients from…to-1
 *   {cmd:'probe', count}   a random sample of held clients answers a ping/echo: proves they are alive
 *   {cmd:'judge', …JudgeLoad}   answers {phase:'measuring'} when warm-up ends, then the JudgeResult
 *   {cmd:'close'}   closes every client;  {cmd:'stop'}   exits
 */

export interface JudgeLoad {
  /** closed: `window` requests always in flight (saturation); paced: `ratePerSecond` offered (open loop). */
  mode: 'closed' | 'paced';
  /** Indices of the clients that ask; each asks about its ring buddies in turn. */
  askers: number[];
  users: number;
  buddiesPerSide: number;
  window: number;
  ratePerSecond: number;
  warmupMs: number;
  measureMs: number;
  /** Bound on measured requests (latency samples are kept in one preallocated array). */
  maxRequests: number;
}

export interface JudgeResult {
  answered: number;
  refused: number;
  refusalCodes: Record<string, number>;
  same: number;
  perSecond: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  measuredMs: number;
  generatorCpuSeconds: number;
  /** Paced mode: requests that could not be sent because too many were outstanding. */
  skipped: number;
  /** Paced mode: how late the generator sent requests after they were due (its own timer and core). */
  sendLagP50Us: number;
  sendLagP99Us: number;
}

/** Paced mode never lets more than this many requests wait, so a stalled server cannot grow the heap. */
const MAX_OUTSTANDING = 20_000;

const clients: LoadClient[] = [];
const byIndex = new Map<number, LoadClient>();

function clientOf(index: number): LoadClient {
  const client = byIndex.get(index);
  if (!client) throw new Error(`client ${index} is not connected`);
  return client;
}

/** Each asker cycles through its buddies, so that every relation of the asker set is exercised. */
function questionSource(load: JudgeLoad): () => { client: LoadClient; buddy: string } {
  const plans = load.askers.map((index) => ({
    client: clientOf(index),
    buddies: benchBuddies(index, load.users, load.buddiesPerSide).map(benchUser),
    turn: 0,
  }));
  let next = 0;
  return () => {
    const plan = plans[next]!;
    next = (next + 1) % plans.length;
    const buddy = plan.buddies[plan.turn % plan.buddies.length]!;
    plan.turn++;
    return { client: plan.client, buddy };
  };
}

async function judge(
  load: JudgeLoad,
  announce: (line: Record<string, unknown>) => void,
): Promise<JudgeResult> {
  const nextQuestion = questionSource(load);
  const latencies = new Float64Array(load.maxRequests);
  let recorded = 0;
  const lags = new Float64Array(load.mode === 'paced' ? load.maxRequests : 0);
  let lagged = 0;
  let refused = 0;
  let same = 0;
  let skipped = 0;
  let outstanding = 0;
  const refusalCodes: Record<string, number> = {};
  let measuring = false;
  let stopping = false;

  const record = (answer: Answer, startedAt: number): void => {
    outstanding--;
    if (!measuring) return;
    if (!answer.ok) {
      refused++;
      const code = answer.code ?? 'unknown';
      refusalCodes[code] = (refusalCodes[code] ?? 0) + 1;
      return;
    }
    if (answer.same) same++;
    if (recorded < latencies.length) latencies[recorded++] = (performance.now() - startedAt) * 1000;
  };

  const ask = (startedAt: number): Promise<void> => {
    const { client, buddy } = nextQuestion();
    outstanding++;
    return client.request('sameNat', { buddy }).then((answer) => record(answer, startedAt));
  };

  let measureStart = 0;
  let cpuStart = process.cpuUsage();
  const startMeasuring = (): void => {
    measuring = true;
    measureStart = performance.now();
    cpuStart = process.cpuUsage();
    announce({ phase: 'measuring' });
  };
  const warmupTimer = setTimeout(startMeasuring, load.warmupMs);
  const total = load.warmupMs + load.measureMs;
  const finished = new Promise<void>((resolve) =>
    setTimeout(() => {
      stopping = true;
      resolve();
    }, total),
  );

  if (load.mode === 'closed') {
    const lane = async (): Promise<void> => {
      while (!stopping && recorded < latencies.length) await ask(performance.now());
    };
    const lanes = Array.from({ length: load.window }, lane);
    await finished;
    const measuredMs = performance.now() - measureStart;
    const cpu = process.cpuUsage(cpuStart);
    measuring = false;
    await Promise.all(lanes);
    return summarise(measuredMs, cpu);
  }

  // Paced (open loop): requests are due at fixed times and sent whether or not earlier ones were
  // answered, so a stall of the server shows in the latency instead of slowing the load down. Latency
  // counts from the send; how late this generator's 1 ms timer sent them is recorded apart (lag), so
  // that a busy generator or a shared core is not charged to the server.
  const begin = performance.now();
  const intervalMs = 1000 / load.ratePerSecond;
  let sent = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    const due = Math.floor((now - begin) / intervalMs);
    for (; sent < due; sent++) {
      if (outstanding >= MAX_OUTSTANDING) {
        skipped++;
        continue;
      }
      if (measuring && lagged < lags.length) lags[lagged++] = (now - (begin + sent * intervalMs)) * 1000;
      void ask(now);
    }
  }, 1);
  await finished;
  clearInterval(tick);
  clearTimeout(warmupTimer);
  const measuredMs = performance.now() - measureStart;
  const cpu = process.cpuUsage(cpuStart);
  measuring = false;
  const drainDeadline = performance.now() + 5000;
  while (outstanding > 0 && performance.now() < drainDeadline) await new Promise((r) => setTimeout(r, 5));
  return summarise(measuredMs, cpu);

  function summarise(measuredMs: number, cpu: NodeJS.CpuUsage): JudgeResult {
    const sortedLags = lags.subarray(0, lagged).sort();
    const sorted = latencies.subarray(0, recorded).sort();
    const pickFrom = (values: Float64Array, p: number): number =>
      values.length === 0
        ? Number.NaN
        : values[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!;
    const pick = (p: number): number =>
      sorted.length === 0
        ? Number.NaN
        : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
    return {
      answered: recorded,
      refused,
      refusalCodes,
      same,
      perSecond: recorded / (measuredMs / 1000),
      p50Us: pick(50),
      p99Us: pick(99),
      p999Us: pick(99.9),
      maxUs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
      measuredMs,
      generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
      skipped,
      sendLagP50Us: pickFrom(sortedLags, 50),
      sendLagP99Us: pickFrom(sortedLags, 99),
    };
  }
}

async function probe(count: number, mode: 'logon' | 'echo'): Promise<Record<string, unknown>> {
  const open = clients.filter((c) => c.open).length;
  const sample = Array.from({ length: Math.min(count, clients.length) }, () => {
    return clients[Math.floor(Math.random() * clients.length)]!;
  });
  const answers = await Promise.all(
    sample.map((c) => (mode === 'logon' ? c.request('ping') : c.request('echo'))),
  );
  const events = clients.reduce((sum, c) => sum + c.events, 0);
  return {
    held: clients.length,
    open,
    asked: sample.length,
    answered: answers.filter((a) => a.ok).length,
    events,
  };
}

let lastMode: 'logon' | 'echo' = 'logon';

serveCommands(async (command) => {
  switch (command.cmd) {
    case 'connect': {
      const mode = command.mode === 'echo' ? 'echo' : 'logon';
      lastMode = mode;
      const before = clients.length;
      const outcome = await connectClients(
        clients,
        String(command.url),
        Number(command.from),
        Number(command.to),
        mode,
        Number(command.concurrency ?? 128),
      );
      for (const c of clients.slice(before)) byIndex.set(c.index, c);
      return { ...outcome, held: clients.length };
    }
    case 'probe':
      return await probe(Number(command.count ?? 100), lastMode);
    case 'judge': {
      const load = command as unknown as JudgeLoad;
      const result = await judge(load, (line) => process.stdout.write(`${JSON.stringify(line)}\n`));
      return { result };
    }
    case 'close': {
      const closed = clients.length;
      for (const c of clients) c.socket.terminate();
      clients.length = 0;
      byIndex.clear();
      return { closed };
    }
    case 'stop':
      for (const c of clients) c.socket.terminate();
      setImmediate(() => process.exit(0));
      return { stopped: true };
    default:
      throw new Error(`unknown command ${String(command.cmd)}`);
  }
});
