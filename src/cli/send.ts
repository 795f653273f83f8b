import { type Command, Option } from 'commander';
import { type JudgeChoice, type PathAttempt, type PathChoice, sendFile } from '../client/index.js';
import { openClient, readGlobals, withGlobals } from './globals.js';
import type { Output } from './output.js';
import { runCommand } from './output.js';
import { pathsCarried, reportPathMoves } from './path-events.js';
import { formatBytes, Progress } from './progress.js';

export function printAttempt(out: Output, a: PathAttempt): void {
  out.event(
    { event: 'attempt', path: a.path, ok: a.ok, ms: a.ms, reason: a.reason ?? null },
    a.ok ? undefined : `  ${a.path}: failed after ${a.ms} ms (${a.reason ?? 'no reason'})`,
  );
}

export function connectOptions(): Option[] {
  return [
    new Option('--path <path>', 'which path to use')
      .choices(['auto', 'direct', 'lan', 'internet', 'relay'])
      .default('auto'),
    new Option('--judge <who>', 'who judges same NAT').choices(['server', 'client']).default('server'),
  ];
}

/** `buddylink send USER FILE`: connect (every try reported), send the file, confirm its SHA-256. */
export function registerSend(program: Command): void {
  const command = withGlobals(program.command('send').argument('<user>').argument('<file>'));
  for (const option of connectOptions()) command.addOption(option);
  command
    .description('send FILE to buddy USER over the best verified path')
    .action(
      async (user: string, file: string, flags: { path: PathChoice; judge: JudgeChoice }, cmd: Command) => {
        const globals = readGlobals(cmd);
        await runCommand(globals.json, async (out) => {
          const client = await openClient(globals);
          try {
            const connection = await client.connect(user, {
              path: flags.path,
              judge: flags.judge,
              onAttempt: (a) => printAttempt(out, a),
            });
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
            reportPathMoves(out, connection);
            let progress: Progress | undefined;
            const result = await sendFile(connection, file, {
              onProgress: (p) => {
                progress ??= new Progress(out, p.total);
                progress.update(p.bytes);
              },
            });
            const seconds = progress?.finish() ?? 0;
            out.event(
              {
                event: 'sent',
                file: result.file,
                bytes: result.bytes,
                sha256: result.sha256,
                path: connection.path,
                paths: pathsCarried(connection),
              },
              `sent ${result.file} (${formatBytes(result.bytes)}) to ${user} over ${connection.path} ` +
                `in ${seconds.toFixed(1)} s, sha256 ${result.sha256.slice(0, 16)}…`,
            );
          } finally {
            await client.close();
          }
        });
      },
    );
}
