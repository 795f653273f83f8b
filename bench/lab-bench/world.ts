import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../../lab/lab.js';
import { findTopology, withDelay } from '../../lab/topologies.js';
import { JsonChild } from './json-child.js';
import {
  BENCH_SERVER_FLAGS,
  type IceSignalling,
  LAB_ADDRESSES,
  LAB_PORTS,
  LIMITS,
  PASSWORD,
} from './options.js';
import { shapeClientLinks } from './shaping.js';

/**
 * One lab for one benchmark path: the topology (with delay), the real buddylink server on the lab
 * internet, and two logged-on buddies, alice (initiator) and bob (listening), as persistent agents.
 * `close()` always tears the lab down (namespaces, nft tables, every process in them).
 */

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const AGENT = fileURLToPath(new URL('./agent.js', import.meta.url));
const ICE_AGENT = fileURLToPath(new URL('./ice-agent.js', import.meta.url));
const SIGNAL_RELAY = fileURLToPath(new URL('./signal-relay.js', import.meta.url));

export interface IcePair {
  offerer: JsonChild;
  answerer: JsonChild;
  /** Signal payload bytes passed through pipes since the last call (pipe signalling only). */
  signalBytes(): number;
}

export interface WorldOptions {
  topology: string;
  delayMs: number;
  /** node flags for the agents, e.g. --cpu-prof. */
  agentNodeArgs?: (user: string) => string[];
  globalAddressTtlMs: number;
  /** Agents note when each step of a connect happens (bench/lab-bench/trace.ts). */
  trace?: boolean;
  /** False: no agents, only the lab and the server (the CLI benchmarks bring their own users). */
  agents?: boolean;
  /** A tbf rate (e.g. '1gbit') on both directions of alice's and bob's LAN links. */
  shapeLanRate?: string;
}

export class World {
  readonly children: JsonChild[] = [];
  alice!: JsonChild;
  bob!: JsonChild;

  private constructor(
    readonly lab: Lab,
    readonly dir: string,
    private readonly options: WorldOptions,
  ) {}

  static async open(options: WorldOptions): Promise<World> {
    const base = findTopology(options.topology);
    if (!base) throw new Error(`no lab topology ${options.topology}`);
    const lab = new Lab(options.delayMs > 0 ? withDelay(base, options.delayMs) : base);
    const dir = await mkdtemp(join(tmpdir(), 'buddybench-'));
    const world = new World(lab, dir, options);
    try {
      await lab.up();
      if (options.shapeLanRate) await shapeClientLinks(lab, ['alice', 'bob'], options.shapeLanRate);
      await world.startServer();
      if (options.agents !== false) await world.startBuddies();
    } catch (error) {
      await world.close();
      throw error;
    }
    return world;
  }

  /**
   * How the lab makes its delay: 'netem' (kernel qdisc) or 'wire' (lab/delay-wire.py, a user-space
   * forwarder with GSO capped at one segment, where the kernel has no netem): reports must say which,
   * since the wire also caps throughput on delayed links.
   */
  get delayMode(): string {
    return this.lab.plan.delayMs > 0 ? this.lab.plan.delayMode : 'none';
  }

  get serverUrl(): string {
    return `ws://${LAB_ADDRESSES.server}:${LAB_PORTS.control}`;
  }

  /** A JSON-line helper inside `host`; stopped by close(). */
  spawn(name: string, host: string, argv: readonly string[], readsCommands = true): JsonChild {
    const child = new JsonChild(name, this.lab.spawn(host, argv), readsCommands);
    this.children.push(child);
    return child;
  }

  private async startServer(): Promise<void> {
    const server = this.spawn(
      'server',
      'server',
      [
        'node',
        CLI,
        'server',
        '--json',
        '--host',
        LAB_ADDRESSES.server,
        '--port',
        String(LAB_PORTS.control),
        '--stun-port',
        String(LAB_PORTS.stun),
        '--http-port',
        String(LAB_PORTS.http),
        '--data',
        ':memory:',
        '--log-level',
        'warn',
        ...BENCH_SERVER_FLAGS,
      ],
      false,
    );
    await server.next('listening', LIMITS.startTimeoutMs);
  }

  private agent(user: string, host: string, listen: boolean): JsonChild {
    const config = {
      server: this.serverUrl,
      user,
      password: PASSWORD,
      home: join(this.dir, user),
      listen,
      globalAddressTtlMs: this.options.globalAddressTtlMs,
      trace: this.options.trace === true,
    };
    const nodeArgs = this.options.agentNodeArgs?.(user) ?? [];
    return this.spawn(user, host, ['node', ...nodeArgs, AGENT, JSON.stringify(config)]);
  }

  private async startBuddies(): Promise<void> {
    this.alice = this.agent('alice', 'alice', false);
    this.bob = this.agent('bob', 'bob', true);
    this.alice.send({ cmd: 'create' });
    this.bob.send({ cmd: 'create' });
    await Promise.all([
      this.alice.next('ready', LIMITS.startTimeoutMs),
      this.bob.next('ready', LIMITS.startTimeoutMs),
    ]);
    this.alice.send({ cmd: 'request', user: 'bob' });
    await this.alice.next('requested', LIMITS.startTimeoutMs);
    this.bob.send({ cmd: 'accept', user: 'alice' });
    await this.bob.next('accepted', LIMITS.startTimeoutMs);
  }

  /**
   * The ICE pair: offerer in alice's host, answerer in bob's, STUN at the lab server's STUN port;
   * signals through this process's pipes or through a WebSocket signalling server in the server host.
   */
  async startIce(signalling: IceSignalling): Promise<IcePair> {
    const stun = `stun:${LAB_ADDRESSES.server}:${LAB_PORTS.stun}`;
    let signal: string | undefined;
    if (signalling === 'server') {
      const relay = this.spawn(
        'signal-relay',
        'server',
        ['node', SIGNAL_RELAY, LAB_ADDRESSES.server, String(LAB_PORTS.iceSignal)],
        false,
      );
      await relay.next('listening', LIMITS.startTimeoutMs);
      signal = `ws://${LAB_ADDRESSES.server}:${LAB_PORTS.iceSignal}`;
    }
    const agent = (role: 'offerer' | 'answerer', host: string) =>
      this.spawn(`ice-${role}-${signalling}`, host, [
        'node',
        ICE_AGENT,
        JSON.stringify({ role, stun, ...(signal ? { signal } : {}) }),
      ]);
    const offerer = agent('offerer', 'alice');
    const answerer = agent('answerer', 'bob');
    let bytes = 0;
    const forward = (to: JsonChild) => (line: Record<string, unknown>) => {
      if (line.event !== 'signal') return false;
      // What a signalling server would have to carry: the description or candidate as JSON text.
      bytes += Buffer.byteLength(JSON.stringify(line.signal));
      to.send({ cmd: 'signal', run: line.run, signal: line.signal });
      return true;
    };
    offerer.onLine(forward(answerer));
    answerer.onLine(forward(offerer));
    await Promise.all([
      offerer.next('ready', LIMITS.startTimeoutMs),
      answerer.next('ready', LIMITS.startTimeoutMs),
    ]);
    return {
      offerer,
      answerer,
      signalBytes: () => {
        const b = bytes;
        bytes = 0;
        return b;
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop().catch(() => {})));
    await this.lab.down();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
