import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { WebSocketServer } from 'ws';
import { type ServerOptions, startServer } from '../src/server/index.js';
import { serveCommands } from './load-process.js';

/**
 * Child process of the scale benchmarks: the server under test (buddylink, via startServer) or the
 * floor it is compared with (a bare `ws` echo server), alone in its process so that its memory and CPU
 * are its own. First stdout line: `{event:'listening', ws, pid}`. Then commands on stdin:
 *   {cmd:'memory'}  garbage-collect (needs --expose-gc), then process.memoryUsage()
 *   {cmd:'stats'}   connections and logged-on devices as the server itself counts them
 *   {cmd:'profile-start'} / {cmd:'profile-stop', path}   V8 CPU profile (what --cpu-prof records) of the
 *                   measured phase only, without the start-up and the tens of thousands of logons before it
 *   {cmd:'loop-delay-reset'} / {cmd:'loop-delay'}   how late the server's event loop ran since
 *                   the reset (p99, max in µs): a stall shows here whoever caused it
 *   {cmd:'heap-snapshot', path}   after a GC, a V8 heap snapshot (what holds the bytes per client)
 *   {cmd:'stop'}    graceful close, then exit (so that --cpu-prof writes its profile)
 */

export interface ServerChildConfig {
  kind: 'buddylink' | 'ws-floor';
  host: string;
  /** buddylink only: data directory holding the population (bench/load-accounts.ts). */
  dataDir?: string;
  /** buddylink only: options over the defaults (stated in the benchmark's setup lines). */
  options?: Partial<ServerOptions>;
}

interface Running {
  ws: string;
  stats(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

async function startBuddylink(config: ServerChildConfig): Promise<Running> {
  const server = await startServer({
    ...config.options,
    host: config.host,
    port: 0,
    stunPort: 0,
    httpPort: 0,
    dataDir: config.dataDir ?? null,
  });
  return {
    ws: server.urls.ws,
    async stats() {
      // The server's own /metrics, not the generator's belief: proves the clients are held and logged on.
      const text = await (await fetch(`${server.urls.http}/metrics`)).text();
      const gauge = (name: string): number => {
        const match = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
        return match ? Number(match[1]) : Number.NaN;
      };
      return {
        connections: gauge('buddylink_control_connections'),
        devicesOnline: gauge('buddylink_devices_online'),
      };
    },
    close: () => server.close(),
  };
}

/**
 * The floor: what holding a WebSocket costs in Node with `ws` and nothing else. Same listener shape as
 * ours (http server + WebSocketServer, default options: no permessage-deflate) and the same frame limit.
 */
async function startFloor(config: ServerChildConfig): Promise<Running> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, maxPayload: 64 * 1024 });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => http.listen(0, config.host, resolve));
  const address = http.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    ws: `ws://${config.host}:${address.port}`,
    async stats() {
      return { connections: wss.clients.size, devicesOnline: Number.NaN };
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Sampling interval of the profile: V8's default for --cpu-prof. */
const PROFILE_INTERVAL_US = 1000;
let profiler: Session | undefined;

async function startProfile(): Promise<void> {
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: PROFILE_INTERVAL_US });
  await profiler.post('Profiler.start');
}

async function stopProfile(path: string): Promise<void> {
  if (!profiler) throw new Error('no profile running');
  const { profile } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  profiler = undefined;
  writeFileSync(path, JSON.stringify(profile));
}

/** Event-loop delay of the server process, sampled every millisecond. */
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ServerChildConfig;
  const running = config.kind === 'ws-floor' ? await startFloor(config) : await startBuddylink(config);
  process.stdout.write(`${JSON.stringify({ event: 'listening', ws: running.ws, pid: process.pid })}\n`);
  serveCommands(async (command) => {
    switch (command.cmd) {
      case 'memory': {
        await collectGarbage();
        return { memory: process.memoryUsage() };
      }
      case 'stats':
        return await running.stats();
      case 'heap-snapshot': {
        // Where the bytes per client go, by constructor (bench/load-heap.ts compares two snapshots).
        await collectGarbage();
        return { snapshot: writeHeapSnapshot(String(command.path)) };
      }
      case 'loop-delay-reset':
        loopDelay.reset();
        return { reset: true };
      case 'loop-delay':
        return { p99Us: loopDelay.percentile(99) / 1000, maxUs: loopDelay.max / 1000 };
      case 'profile-start':
        await startProfile();
        return { profiling: true };
      case 'profile-stop':
        await stopProfile(String(command.path));
        return { profile: String(command.path) };
      case 'stop':
        await running.close();
        setImmediate(() => process.exit(0));
        return { stopped: true };
      default:
        throw new Error(`unknown command ${String(command.cmd)}`);
    }
  });
}

await main();
