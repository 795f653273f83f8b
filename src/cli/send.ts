import { type Command, Option } from 'commander';
import {
  type JudgeChoice,
  type PathAttempt,
  type PathChoice,
  type PeerConnection,
  planItems,
  type SendItem,
  sendTransfer,
} from '../client/index.js';
import { EXIT } from './exit-codes.js';
import { openClient, readGlobals, withGlobals } from './globals.js';
import { onInterrupt } from './interrupt.js';
import { type Output, runCommand, UsageError } from './output.js';
import { formatBytes, Progress } from './progress.js';
import { checkRelayBudget } from './relay-budget.js';

export function printAttempt(out: Output, a: PathAttempt): void {
  out.event(
    { event: 'attempt', path: a.path, ok: a.ok, ms: a.ms, reason: a.reason ?? null },
    a.ok ? undefined : `  ${a.path}: failed after ${a.ms} ms (${a.reason ?? 'no reason'})`,
  );
}

export function connectOptions(): Option[] {
  return [
    new Option('--path <path>', 'which path to use')
      .choices(['auto', 'lan', 'internet', 'relay'])
      .default('auto'),
    new Option('--judge <who>', 'who judges same NAT').choices(['server', 'client']).default('server'),
  ];
}

interface SendFlags {
  path: PathChoice;
  judge: JudgeChoice;
  name?: string;
  text?: string;
}

/** Local arguments, checked before any connection: a missing file is a usage error, not "offline". */
async function plan(paths: string[], flags: SendFlags): Promise<{ items: SendItem[]; text?: string }> {
  if (flags.text !== undefined) {
    if (paths.length > 0) throw new UsageError('--text sends a message: give no files with it');
    if (flags.text === '') throw new UsageError('--text wants a message');
    return { items: [], text: flags.text };
  }
  if (paths.length === 0)
    throw new UsageError('nothing to send: give files or folders, - for standard input, or --text');
  if (flags.name !== undefined && paths.length > 1) throw new UsageError('--name names a single file or -');
  if (paths.includes('-') && process.stdin.isTTY)
    throw new UsageError(
      '- reads standard input, which is a terminal: pipe something in (cmd | buddylink send USER -)',
    );
  return {
    items: await planItems(paths, { ...(flags.name ? { name: flags.name } : {}), stdin: process.stdin }),
  };
}

function connectedLine(out: Output, user: string, connection: PeerConnection): void {
  out.event(
    {
      event: 'connected',
      buddy: user,
      path: connection.path,
      transport: connection.transport,
      ms: connection.connectMs,
    },
    `connected to ${user} over the ${connection.path} path (${connection.transport}) in ${connection.connectMs} ms`,
  );
}

/**
 * `buddylink send USER PATH…`: checks the files, connects (every try reported), offers them, sends
 * each from where an interrupted transfer stopped, and confirms each file's SHA-256.
 */
export function registerSend(program: Command): void {
  const command = withGlobals(
    program
      .command('send')
      .argument('<user>', 'the buddy to send to')
      .argument('[paths...]', 'files and folders; - for standard input'),
  );
  for (const option of connectOptions()) command.addOption(option);
  command
    .option('--name <name>', 'the name the receiver sees for a single file or for - (default: stdin)')
    .option('--text <message>', 'send a one-line text message instead of files')
    .description('send files, folders, standard input or a text to buddy USER over the best verified path')
    .addHelpText(
      'after',
      `
Examples:
  buddylink send bob photo.jpg notes.txt      two files
  buddylink send bob ~/album                  a folder (arrives as album/…)
  tar c dir | buddylink send bob - --name dir.tar
  buddylink send bob --text "the door code is 4711"
An interrupted send continues where it stopped when you run the same command again.`,
    )
    .action(async (user: string, paths: string[], flags: SendFlags, cmd: Command) => {
      const globals = readGlobals(cmd);
      await runCommand(globals.json, async (out) => {
        const what = await plan(paths, flags);
        const client = await openClient(globals);
        const stop = new AbortController();
        let transferring = false;
        // Before the transfer there is nothing to tell the receiver: stop at once.
        const release = onInterrupt(() => (transferring ? stop.abort() : process.exit(EXIT.interrupted)));
        try {
          const connection = await client.connect(user, {
            path: flags.path,
            judge: flags.judge,
            onAttempt: (a) => printAttempt(out, a),
          });
          connectedLine(out, user, connection);
          const total = what.items.some((i) => i.bytes === null)
            ? null
            : what.items.reduce((s, i) => s + (i.bytes ?? 0), 0);
          const progress = new Progress(out, total);
          transferring = true;
          const result = await sendTransfer(connection, user, what, {
            signal: stop.signal,
            beforeBodies: (remaining) => checkRelayBudget(connection, user, remaining),
            onProgress: (p) => progress.update(p.bytes),
            onFile: (f) => {
              const renamed = f.savedAs !== f.file ? `, saved as ${f.savedAs}` : '';
              const resumed = f.resumedFrom > 0 ? `, resumed from ${formatBytes(f.resumedFrom)}` : '';
              out.event(
                {
                  event: 'sent',
                  file: f.file,
                  savedAs: f.savedAs,
                  bytes: f.bytes,
                  sha256: f.sha256,
                  resumedFrom: f.resumedFrom,
                  path: connection.path,
                },
                `sent ${f.file} (${formatBytes(f.bytes)}) to ${user} over ${connection.path}${renamed}${resumed}, ` +
                  `sha256 ${f.sha256.slice(0, 16)}…`,
              );
            },
          });
          const seconds = progress.finish();
          if (what.text !== undefined)
            out.event({ event: 'message', to: user, text: what.text }, `sent the message to ${user}`);
          out.event(
            {
              event: 'transfer',
              buddy: user,
              files: result.files.length,
              bytes: result.bytes,
              path: connection.path,
              seconds: Number(seconds.toFixed(3)),
            },
            result.files.length > 1
              ? `sent ${result.files.length} files (${formatBytes(result.bytes)}) to ${user} over ${connection.path} in ${seconds.toFixed(1)} s`
              : undefined,
          );
        } finally {
          release();
          await client.close();
        }
      });
    });
}
