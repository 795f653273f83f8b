import { join } from 'node:path';
import { JsonChild, type Line } from '../lab-bench/json-child.js';
import { pause } from '../lab-bench/world.js';
import type { Hosts } from './hosts.js';
import { sha256OfFile, type TestFile } from './test-file.js';
import { TimedProcess, type Usage } from './timed-process.js';

/**
 * magic-wormhole (Debian's `magic-wormhole`, Python) with its own servers run locally: the mailbox
 * (`python3-magic-wormhole-mailbox-server`) and the transit relay (`magic-wormhole-transit-relay`),
 * both under /usr/bin/twist3. All of it runs on /usr/bin/python3 with a clean environment, since the
 * python first on PATH (pyenv) has none of these modules.
 */

export const WORMHOLE = '/usr/bin/wormhole';
export const TWIST = '/usr/bin/twist3';
/** Where Debian's mailbox and transit relay packages put their twist3 plugins. */
export const TWISTED_PLUGINS = '/usr/lib/python3/dist-packages/twisted/plugins';
/** The servers' ports: each benchmark host (namespace) is private, so fixed ports cannot clash. */
const MAILBOX_PORT = 4000;
const TRANSIT_PORT = 4001;
const START_TIMEOUT_MS = 20_000;

export interface WormholeServers {
  relayUrl: string;
  transitHelper: string;
}

export interface WormholeTransfer {
  bytes: number;
  /** `wormhole send` started (and `receive` at once after it) → both exited, file complete on disk. */
  bothCommandsSeconds: number;
  sender: Usage;
  receiver: Usage;
  /** How the receiver got the bytes, from its own words ("->tcp:127.0.0.1:…" direct, "->relay:…"). */
  via: string;
}

function pythonEnv(dir: string): NodeJS.ProcessEnv {
  // Unbuffered: the servers' readiness is read from their log on a pipe.
  return { PATH: '/usr/bin:/bin', HOME: dir, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', PYTHONUNBUFFERED: '1' };
}

/** A twisted server, ready once its log (JSON lines on stdout) says "… starting on PORT". */
async function startTwisted(
  hosts: Hosts,
  name: string,
  argv: readonly string[],
  dir: string,
): Promise<JsonChild> {
  const child = new JsonChild(name, hosts.spawn('server', [TWIST, ...argv], pythonEnv(dir)), false);
  let started = false;
  child.onLine((line: Line) => {
    if (/starting on \d+/.test(String(line.log_text ?? ''))) started = true;
    return true;
  });
  // Bounded poll: the log line, or the process gone, or the time is up.
  for (const deadline = Date.now() + START_TIMEOUT_MS; !started; await pause(50)) {
    if (child.exitCode !== undefined)
      throw new Error(`${name} exited ${child.exitCode}: ${child.stderrTail}`);
    if (Date.now() > deadline) throw new Error(`${name} did not start: ${child.stderrTail}`);
  }
  return child;
}

/** Mailbox and transit relay in the servers' host, listening on `address` only. */
export async function startWormholeServers(
  hosts: Hosts,
  address: string,
  dir: string,
): Promise<WormholeServers> {
  await startTwisted(
    hosts,
    'wormhole-mailbox',
    [
      'wormhole-mailbox',
      `--port=tcp:${MAILBOX_PORT}:interface=${address}`,
      `--channel-db=${join(dir, 'mailbox.sqlite')}`,
    ],
    dir,
  );
  await startTwisted(
    hosts,
    'transitrelay',
    ['transitrelay', `--port=tcp:${TRANSIT_PORT}:interface=${address}`],
    dir,
  );
  return { relayUrl: `ws://${address}:${MAILBOX_PORT}/v1`, transitHelper: `tcp:${address}:${TRANSIT_PORT}` };
}

export class WormholeCli {
  private runs = 0;

  constructor(
    private readonly hosts: Hosts,
    private readonly dir: string,
    private readonly servers: WormholeServers,
  ) {}

  /** `wormhole send --code C FILE` in alice's host, then at once `wormhole receive --accept-file -o OUT C` in bob's. */
  async transfer(file: TestFile, out: string, timeoutMs: number): Promise<WormholeTransfer> {
    const n = ++this.runs;
    const code = `${n}-buddylink-bench`;
    const base = [
      WORMHOLE,
      '--relay-url',
      this.servers.relayUrl,
      '--transit-helper',
      this.servers.transitHelper,
    ];
    const command = (role: 'alice' | 'bob', args: readonly string[]) =>
      new TimedProcess(
        this.hosts,
        role,
        `wormhole ${args[0]}`,
        [...base, ...args],
        join(this.dir, `wormhole-${args[0]}-${n}.time`),
        pythonEnv(this.dir),
      );
    const started = performance.now();
    const sender = command('alice', ['send', '--hide-progress', '--code', code, file.path]);
    const receiver = command('bob', ['receive', '--hide-progress', '--accept-file', '-o', out, code]);
    try {
      const ends = await Promise.all([sender.finished(timeoutMs), receiver.finished(timeoutMs)]);
      const done = Math.max(...ends);
      const sha256 = await sha256OfFile(out);
      if (sha256 !== file.sha256) throw new Error(`wormhole delivered a different file (sha256 ${sha256})`);
      return {
        bytes: file.bytes,
        bothCommandsSeconds: (done - started) / 1000,
        sender: sender.usage(),
        receiver: receiver.usage(),
        via: /Receiving \(([^)]*)\)/.exec(receiver.child.stderrTail)?.[1] ?? 'unknown',
      };
    } finally {
      await Promise.all([sender.stop(), receiver.stop()]);
    }
  }
}
