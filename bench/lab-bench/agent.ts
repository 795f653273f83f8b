import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Client, type PathChoice, type PeerConnection } from '../../src/client/index.js';
import { installTrace, mark, takeTrace } from './trace.js';

/**
 * A buddylink user inside a lab host, driven by JSON lines on stdin (bench/lab-bench/json-child.ts).
 * argv[2] is its config. The listening side answers every incoming connection with one byte ('R'),
 * counts what it receives, reports it at the end of stream and acknowledges with 'A'. The initiating
 * side measures connect() → connection, connect() → first verified byte, and the bulk send.
 */

interface AgentConfig {
  server: string;
  user: string;
  password: string;
  home: string;
  listen: boolean;
  /** Global address cache lifetime; 0 asks STUN on every connect (cold, as ICE gathers every time). */
  globalAddressTtlMs: number;
  /** Note when each step of a connect happens (bench/lab-bench/trace.ts); `trace` hands them over. */
  trace?: boolean;
}

type Command =
  | { cmd: 'create' }
  | { cmd: 'request'; user: string }
  | { cmd: 'accept'; user: string }
  | { cmd: 'connect'; buddy: string; path: PathChoice; bytes: number }
  | { cmd: 'trace' }
  | { cmd: 'quit' };

const config = JSON.parse(process.argv[2] ?? '{}') as AgentConfig;
if (config.trace) installTrace();
/** Bulk data: one random block written again and again (content is not what is measured). */
const BLOCK = randomBytes(64 * 1024);
const FIRST_BYTE = 0x52; // 'R'
const ACK_BYTE = 0x41; // 'A'

let client: Client | undefined;

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function must(): Client {
  if (!client) throw new Error('not logged on');
  return client;
}

/** Reads a connection chunk by chunk: the next chunk, whenever it comes. */
function chunks(connection: PeerConnection): () => Promise<Buffer | null> {
  const queue: (Buffer | null)[] = [];
  let wake: (() => void) | undefined;
  connection.on('data', (chunk: Buffer) => {
    queue.push(chunk);
    wake?.();
  });
  connection.on('end', () => {
    queue.push(null);
    wake?.();
  });
  connection.on('close', () => {
    queue.push(null);
    wake?.();
  });
  return async () => {
    while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    return queue.shift() ?? null;
  };
}

function answer(connection: PeerConnection): void {
  connection.on('error', () => {});
  mark('connection handed over');
  connection.write(Buffer.from([FIRST_BYTE]));
  let bytes = 0;
  let firstAt = 0;
  let cpuAtFirst = process.cpuUsage();
  connection.on('data', (chunk: Buffer) => {
    if (bytes === 0) {
      firstAt = performance.now();
      cpuAtFirst = process.cpuUsage();
    }
    bytes += chunk.length;
  });
  connection.on('end', () => {
    const ms = bytes > 0 ? performance.now() - firstAt : 0;
    const cpu = process.cpuUsage(cpuAtFirst);
    emit({
      event: 'received',
      path: connection.path,
      bytes,
      ms,
      cpuMs: cpuMs(cpuAtFirst),
      userMs: cpu.user / 1000,
      systemMs: cpu.system / 1000,
    });
    connection.end(Buffer.from([ACK_BYTE]));
  });
}

/** User + system CPU of this process since `since`, in ms (all threads, including libuv's). */
function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

async function writeAll(connection: PeerConnection, total: number): Promise<void> {
  let left = total;
  while (left > 0) {
    const piece = left >= BLOCK.length ? BLOCK : BLOCK.subarray(0, left);
    left -= piece.length;
    if (!connection.write(piece)) await new Promise((resolve) => connection.once('drain', resolve));
  }
}

async function connect(command: Extract<Command, { cmd: 'connect' }>): Promise<void> {
  takeTrace();
  mark('connect() called');
  const started = performance.now();
  const connection = await must().connect(command.buddy, {
    path: command.path,
    globalAddressTtlMs: config.globalAddressTtlMs,
  });
  const connectedMs = performance.now() - started;
  mark('connect() resolved');
  connection.on('error', () => {});
  const next = chunks(connection);
  const first = await next();
  const firstByteMs = performance.now() - started;
  mark('first byte read');
  if (!first || first[0] !== FIRST_BYTE) throw new Error("the first byte was not the responder's");
  emit({
    event: 'connected',
    path: connection.path,
    connectedMs,
    firstByteMs,
    attempts: connection.attempts,
    ...(config.trace ? { trace: takeTrace() } : {}),
  });
  if (command.bytes > 0) {
    const writeStarted = performance.now();
    const cpuAtStart = process.cpuUsage();
    await writeAll(connection, command.bytes);
    connection.end();
    let acked = false;
    for (let chunk = await next(); chunk !== null; chunk = await next()) {
      if (chunk.includes(ACK_BYTE)) acked = true;
      if (acked) break;
    }
    emit({
      event: 'sent',
      bytes: command.bytes,
      acked,
      ms: performance.now() - writeStarted,
      cpuMs: cpuMs(cpuAtStart),
      userMs: process.cpuUsage(cpuAtStart).user / 1000,
      systemMs: process.cpuUsage(cpuAtStart).system / 1000,
    });
  }
  connection.destroy();
}

async function handle(command: Command): Promise<void> {
  const options = {
    server: config.server,
    user: config.user,
    password: config.password,
    home: config.home,
    listen: config.listen,
    timeouts: { globalAddressTtlMs: config.globalAddressTtlMs },
  };
  switch (command.cmd) {
    case 'create':
      client = await Client.createAccount(options);
      client.on('connection', answer);
      emit({ event: 'ready', user: client.user, udpPort: client.udpPort });
      return;
    case 'request':
      emit({ event: 'requested', state: await must().requestBuddy(command.user) });
      return;
    case 'accept':
      await must().acceptBuddy(command.user);
      emit({ event: 'accepted' });
      return;
    case 'connect':
      await connect(command);
      return;
    case 'trace':
      emit({ event: 'trace', events: takeTrace() });
      return;
    case 'quit':
      await client?.close();
      process.exit(0);
  }
}

// One command at a time, in order: the driver waits for each answer anyway.
let chain = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (text) => {
  const command = JSON.parse(text) as Command;
  chain = chain.then(() =>
    handle(command).catch((error: unknown) =>
      emit({ event: 'error', message: error instanceof Error ? error.message : String(error) }),
    ),
  );
});
// A profile (--cpu-prof) is written only on a normal exit.
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
