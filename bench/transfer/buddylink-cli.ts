import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processCpuSeconds } from '../harness/processes.js';
import { JsonChild } from '../lab-bench/json-child.js';
import { BENCH_SERVER_FLAGS, PASSWORD } from '../lab-bench/options.js';
import type { Hosts } from './hosts.js';
import type { TestFile } from './test-file.js';
import { TimedProcess, type Usage } from './timed-process.js';

/**
 * The real CLI as a user runs it: `buddylink receive --once` in bob's host, `buddylink send` in
 * alice's, both with --json, one fresh pair of commands per run. What is timed and counted is in
 * `CliTransfer`.
 */

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const START_TIMEOUT_MS = 20_000;

export type CliPath = 'lan' | 'internet' | 'relay' | 'auto';

export interface CliTransfer {
  path: string;
  bytes: number;
  /** Sender: `connected` → `sent` (the receipt of the checked hash): the transfer alone. */
  transferSeconds: number;
  /** `send` started (receiver already waiting) → both commands exited, file complete on disk. */
  sendCommandSeconds: number;
  /** `receive` started → `ready` → `send` started → both exited: the two commands, end to end. */
  bothCommandsSeconds: number;
  /** Start-up before the first byte: `receive` started → `ready` (logged on, listening). */
  receiverReadySeconds: number;
  /** `send` started → its `connected` line (Node start, imports, logon, connect). */
  senderConnectedSeconds: number;
  /** After the bytes: the sender's `sent` line → both commands exited. */
  exitSeconds: number;
  /** CPU seconds over the transfer window of each side (its own connected → sent / received). */
  senderTransferCpu: number;
  receiverTransferCpu: number;
  /** The sender's tries, "path ✓|✗ ms (reason)", in the order they ended. */
  attempts: string[];
  /** The server's CPU seconds over the sender's connected → sent window (when its pid is known). */
  serverTransferCpu?: number;
  /** GNU time of each whole command. */
  sender: Usage;
  receiver: Usage;
}

/** The buddylink server in the servers' host, every port chosen by the kernel; its URLs. */
export async function startBuddylinkServer(
  hosts: Hosts,
  host: string,
): Promise<{ server: JsonChild; ws: string; stun: string }> {
  const argv = ['node', CLI, 'server', '--json', '--host', host, '--port', '0', '--stun-port', '0'];
  argv.push('--http-port', '0', '--data', ':memory:', '--log-level', 'warn', ...BENCH_SERVER_FLAGS);
  const server = new JsonChild('buddylink server', hosts.spawn('server', argv), false);
  const listening = await server.next('listening', START_TIMEOUT_MS);
  return { server, ws: String(listening.ws), stun: String(listening.stun).replace(/^udp:\/\//, '') };
}

export class BuddylinkCli {
  private runs = 0;

  constructor(
    private readonly hosts: Hosts,
    private readonly dir: string,
    private readonly server: string,
    /** host:port of the server's STUN (until clients learn it from the server, issue 9 item 3). */
    private readonly stun: string,
    /** The server's process: its CPU over each transfer is read from /proc when given. */
    private readonly serverPid?: number,
  ) {}

  private serverCpu(): number | undefined {
    return this.serverPid === undefined ? undefined : processCpuSeconds(this.serverPid);
  }

  private env(user: string): NodeJS.ProcessEnv {
    return {
      ...process.env,
      BUDDYLINK_SERVER: this.server,
      BUDDYLINK_STUN: this.stun,
      BUDDYLINK_HOME: join(this.dir, user),
      BUDDYLINK_PASSWORD: PASSWORD,
    };
  }

  private async cli(user: 'alice' | 'bob', args: readonly string[]): Promise<void> {
    await this.hosts.exec(user, ['node', CLI, '--json', ...args], {
      env: this.env(user),
      timeoutMs: START_TIMEOUT_MS,
    });
  }

  /** alice and bob get accounts and accept each other, as in the README's two-people story. */
  async makeBuddies(): Promise<void> {
    await Promise.all([
      this.cli('alice', ['account', 'create', 'alice']),
      this.cli('bob', ['account', 'create', 'bob']),
    ]);
    await this.cli('alice', ['buddy', 'add', 'bob']);
    await this.cli('bob', ['buddy', 'accept', 'alice']);
  }

  /** One `receive --once` + `send FILE --path PATH`; the received file is left in `outDir`. */
  async transfer(path: CliPath, file: TestFile, outDir: string, timeoutMs: number): Promise<CliTransfer> {
    const { bytes } = file;
    const n = ++this.runs;
    const started = performance.now();
    const receiver = new TimedProcess(
      this.hosts,
      'bob',
      'buddylink receive',
      ['node', CLI, '--json', 'receive', '--once', '--out', outDir],
      join(this.dir, `receive-${n}.time`),
      this.env('bob'),
    );
    let sender: TimedProcess | undefined;
    try {
      const ready = await receiver.next('ready', START_TIMEOUT_MS);
      sender = new TimedProcess(
        this.hosts,
        'alice',
        'buddylink send',
        ['node', CLI, '--json', 'send', 'bob', file.path, '--path', path],
        join(this.dir, `send-${n}.time`),
        this.env('alice'),
      );
      const sConnected = await sender.next('connected', START_TIMEOUT_MS);
      const serverAtConnected = this.serverCpu();
      const rConnected = await receiver.next('connected', START_TIMEOUT_MS);
      const received = await receiver.next('received', timeoutMs);
      const sent = await sender.next('sent', timeoutMs);
      const serverAtSent = this.serverCpu();
      const ends = await Promise.all([sender.finished(timeoutMs), receiver.finished(timeoutMs)]);
      const sha = [file.sha256, sent.line.sha256, received.line.sha256];
      if (Number(received.line.bytes) !== bytes || sha.some((s) => s !== file.sha256))
        throw new Error(`bob received ${String(received.line.bytes)} bytes, sha256 ${sha.join(' vs ')}`);
      const done = Math.max(...ends);
      return {
        path: String(sConnected.line.path),
        attempts: sender.attempts.map(
          (a) =>
            `${String(a.path)} ${a.ok ? '✓' : '✗'} ${String(a.ms)} ms${a.reason ? ` (${String(a.reason)})` : ''}`,
        ),
        bytes,
        transferSeconds: (sent.stamp.at - sConnected.stamp.at) / 1000,
        sendCommandSeconds: (done - sender.startedAt) / 1000,
        bothCommandsSeconds: (done - started) / 1000,
        receiverReadySeconds: (ready.stamp.at - receiver.startedAt) / 1000,
        senderConnectedSeconds: (sConnected.stamp.at - sender.startedAt) / 1000,
        exitSeconds: (done - sent.stamp.at) / 1000,
        senderTransferCpu: sent.stamp.cpuSeconds - sConnected.stamp.cpuSeconds,
        receiverTransferCpu: received.stamp.cpuSeconds - rConnected.stamp.cpuSeconds,
        ...(serverAtConnected !== undefined && serverAtSent !== undefined
          ? { serverTransferCpu: serverAtSent - serverAtConnected }
          : {}),
        sender: sender.usage(),
        receiver: receiver.usage(),
      };
    } finally {
      await Promise.all([receiver.stop(), sender?.stop()]);
    }
  }
}
