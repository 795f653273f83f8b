import { mkdir, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  type Client,
  declineHello,
  type PeerConnection,
  readHello,
  receiveTransfer,
  StreamReader,
  sweepStaleParts,
} from '../client/index.js';
import { type ConsentPolicy, decide, describeOffer, parseSize } from './consent.js';
import { openClient, readGlobals, withGlobals } from './globals.js';
import { type Output, runCommand, UsageError } from './output.js';
import { formatBytes, Progress } from './progress.js';

interface ReceiveFlags {
  out: string;
  from?: string[];
  once?: boolean;
  stdout?: boolean;
  yes?: boolean;
  maxSize?: string;
}

/** How long Ctrl-C waits for running transfers to tell their senders and keep their parts. */
const STOP_GRACE_MS = 1500;

async function usableDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info && !info.isDirectory()) throw new UsageError(`--out ${dir}: not a folder`);
  await mkdir(dir, { recursive: true });
}

/**
 * `buddylink receive`: stays online (listening device); each offer is shown and accepted or
 * declined (a prompt on a terminal; unattended: buddies or --from, within --max-size), then each
 * file lands under DIR after its SHA-256 checks. --once: one transfer; --stdout: one file to stdout.
 */
export function registerReceive(program: Command): void {
  withGlobals(program.command('receive'))
    .option('--out <dir>', 'folder for received files', '.')
    .option('--from <user...>', 'accept transfers only from these buddies (default: every accepted buddy)')
    .option('--max-size <size>', 'decline transfers larger than this (e.g. 500M, 10G)')
    .option('--yes', 'accept without asking, even on a terminal')
    .option('--once', 'exit after one transfer (one send command, whatever it carried)')
    .option('--stdout', 'write one received file to standard output (implies --once; messages go to stderr)')
    .description('wait for buddies to send files, folders or messages')
    .addHelpText(
      'after',
      `
Examples:
  buddylink receive --out ~/Downloads               ask before each transfer
  buddylink receive --yes --from alice --max-size 2G
  buddylink receive --stdout > backup.tar           one file to a pipe
An interrupted transfer keeps a hidden part file in DIR (.buddylink-….part) and continues when the
same file is sent again; parts older than 7 days are removed when receive starts.`,
    )
    .action(async (flags: ReceiveFlags, command: Command) => {
      const globals = readGlobals(command);
      const toStdout = flags.stdout === true;
      await runCommand(
        globals.json,
        async (out) => {
          const from = flags.from?.flatMap((f) => f.split(',')).filter(Boolean);
          const policy: ConsentPolicy = {
            ask: !globals.json && !flags.yes && process.stdin.isTTY === true && process.stderr.isTTY === true,
          };
          if (from) policy.from = from;
          if (flags.maxSize !== undefined) policy.maxBytes = parseSize(flags.maxSize);
          if (toStdout && process.stdout.isTTY)
            throw new UsageError('--stdout would write the file to the terminal: redirect it');
          await usableDir(flags.out);
          const swept = await sweepStaleParts(flags.out);
          if (swept > 0) out.note(`buddylink: removed ${swept} part file(s) older than 7 days`);
          const client = await openClient(globals, { listen: true });
          try {
            await serve(client, out, flags, policy, toStdout);
          } finally {
            await client.close();
          }
        },
        { eventsToStderr: toStdout },
      );
    });
}

function serve(
  client: Client,
  out: Output,
  flags: ReceiveFlags,
  policy: ConsentPolicy,
  toStdout: boolean,
): Promise<void> {
  const once = flags.once === true || toStdout;
  const running = new Set<Promise<unknown>>();
  const stop = new AbortController();
  return new Promise<void>((resolve, reject) => {
    let finished = false;
    const finish = (error?: unknown) => {
      if (finished) return;
      finished = true;
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      if (error) reject(error);
      else resolve();
    };
    const interrupt = () => {
      if (running.size === 0) return finish();
      // Tell each sender, keep each part, then go (bounded).
      stop.abort();
      const timer = setTimeout(() => process.exit(130), STOP_GRACE_MS);
      void Promise.allSettled([...running]).then(() => {
        clearTimeout(timer);
        process.exit(130);
      });
    };
    process.on('SIGINT', interrupt);
    process.on('SIGTERM', interrupt);
    client.on('connection', (connection) => {
      const one = receiveOne(out, connection, flags.out, policy, toStdout, stop.signal).catch(
        (error: unknown) => {
          // The sender must not wait for receipts that will never come.
          connection.destroy();
          throw error;
        },
      );
      const handled = one.then(
        (counted) => {
          if (once && counted) finish();
        },
        (error: unknown) => {
          if (once) finish(error);
          else out.error(error);
        },
      );
      running.add(handled);
      void handled.finally(() => running.delete(handled));
    });
    client.on('disconnect', () => out.note('buddylink: lost the server; reconnecting…'));
    client.on('reconnect', () => out.note('buddylink: back online'));
    out.event(
      { event: 'ready', user: client.user, device: client.device },
      `${client.user} is waiting for files in ${flags.out} (Ctrl-C to stop)`,
    );
  });
}

/** Handles one incoming connection; true when it was a transfer that counts for --once. */
async function receiveOne(
  out: Output,
  connection: PeerConnection,
  dir: string,
  policy: ConsentPolicy,
  toStdout: boolean,
  signal: AbortSignal,
): Promise<boolean> {
  connection.on('error', () => {});
  const peer = connection.remoteUser;
  const reader = new StreamReader(connection);
  const hello = await readHello(reader);
  if (hello.kind !== 'offer') {
    await declineHello(
      connection,
      'NOT_CHATTING',
      'they are receiving files, not chatting (send them a file or --text)',
    );
    out.note(`buddylink: ${peer} wanted to chat; told them this is receiving files`);
    return false;
  }
  out.event(
    {
      event: 'connected',
      from: peer,
      path: connection.path,
      transport: connection.transport,
      ms: connection.connectMs,
    },
    `${peer} connected over the ${connection.path} path`,
  );
  let progress: Progress | undefined;
  const started = performance.now();
  const result = await receiveTransfer(connection, reader, hello, peer, {
    dir,
    ...(toStdout ? { sink: process.stdout } : {}),
    signal,
    ...(policy.maxBytes !== undefined ? { maxBytes: policy.maxBytes } : {}),
    decide: async (offer) => {
      out.event(
        { event: 'offer', from: peer, files: offer.files.length, bytes: offer.total },
        `${peer} offers ${describeOffer(offer)}`,
      );
      const decision = await decide(policy, offer);
      if (decision.accept) progress = new Progress(out, offer.total);
      return decision;
    },
    onProgress: (p) => progress?.update(p.bytes),
    onFile: (f) =>
      out.event(
        {
          event: 'received',
          file: f.file,
          bytes: f.bytes,
          sha256: f.sha256,
          resumedFrom: f.resumedFrom,
          path: connection.path,
          from: peer,
        },
        `received ${f.file} (${formatBytes(f.bytes)}) from ${peer} over ${connection.path}` +
          `${f.resumedFrom > 0 ? `, resumed from ${formatBytes(f.resumedFrom)}` : ''}, sha256 ${f.sha256.slice(0, 16)}… checked`,
      ),
  });
  progress?.finish();
  if (result.declined && !result.declined.accept) {
    out.event(
      { event: 'declined', from: peer, code: result.declined.code, reason: result.declined.reason },
      `declined ${peer}'s transfer: ${result.declined.reason}`,
    );
    return result.declined.code === 'DECLINED';
  }
  if (result.text !== undefined) {
    if (toStdout && !out.json) process.stdout.write(`${result.text}\n`);
    out.event(
      { event: 'message', from: peer, text: result.text },
      toStdout ? undefined : `${peer}: ${result.text}`,
    );
  }
  const seconds = (performance.now() - started) / 1000;
  out.event(
    {
      event: 'transfer',
      from: peer,
      files: result.files.length,
      bytes: result.bytes,
      path: connection.path,
      seconds: Number(seconds.toFixed(3)),
    },
    result.files.length > 1
      ? `received ${result.files.length} files (${formatBytes(result.bytes)}) from ${peer} in ${seconds.toFixed(1)} s`
      : undefined,
  );
  return true;
}
