import { mkdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { type PeerConnection, readHello, receiveFile, StreamReader } from '../client/index.js';
import { openClient, readGlobals, withGlobals } from './globals.js';
import { type Output, runCommand } from './output.js';
import { pathsCarried, reportPathMoves } from './path-events.js';
import { formatBytes, Progress } from './progress.js';

interface ReceiveFlags {
  out: string;
  from?: string;
  once?: boolean;
}

/**
 * `buddylink receive --out DIR`: stays online (listening device) and writes each incoming file
 * under DIR after its SHA-256 checks; with --once, exits after the first file.
 */
export function registerReceive(program: Command): void {
  withGlobals(program.command('receive'))
    .requiredOption('--out <dir>', 'directory for received files')
    .option('--from <user>', 'accept files only from this buddy')
    .option('--once', 'exit after the first file')
    .description('wait for buddies to send files')
    .action(async (flags: ReceiveFlags, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        await mkdir(flags.out, { recursive: true });
        const client = await openClient(globals, { listen: true });
        try {
          await new Promise<void>((resolve, reject) => {
            client.on('connection', (connection) => {
              if (flags.from && connection.remoteUser !== flags.from) {
                connection.destroy();
                return;
              }
              receiveOne(out, connection, flags.out).then(
                () => {
                  if (flags.once) resolve();
                },
                (error: unknown) => {
                  if (flags.once) reject(error);
                  else out.error(error);
                },
              );
            });
            client.on('disconnect', () => out.note('buddylink: lost the server; reconnecting…'));
            client.on('reconnect', () => out.note('buddylink: back online'));
            out.event(
              { event: 'ready', user: client.user, device: client.device },
              `${client.user} is waiting for files in ${flags.out} (Ctrl-C to stop)`,
            );
          });
        } finally {
          await client.close();
        }
      });
    });
}

async function receiveOne(out: Output, connection: PeerConnection, dir: string): Promise<void> {
  connection.on('error', () => {});
  out.event(
    {
      event: 'connected',
      from: connection.remoteUser,
      path: connection.path,
      transport: connection.transport,
      ms: connection.connectMs,
    },
    `${connection.remoteUser} connected over the ${connection.path} path`,
  );
  reportPathMoves(out, connection);
  const reader = new StreamReader(connection);
  const hello = await readHello(reader);
  if (hello.kind !== 'file') {
    connection.destroy();
    return;
  }
  const progress = new Progress(out, hello.bytes);
  const result = await receiveFile(connection, reader, hello, dir, {
    onProgress: (p) => progress.update(p.bytes),
  });
  progress.finish();
  connection.end();
  out.event(
    {
      event: 'received',
      file: result.file,
      bytes: result.bytes,
      sha256: result.sha256,
      path: connection.path,
      paths: pathsCarried(connection),
      from: connection.remoteUser,
    },
    `received ${result.file} (${formatBytes(result.bytes)}) from ${connection.remoteUser} over ${connection.path}, ` +
      `sha256 ${result.sha256.slice(0, 16)}… checked`,
  );
}
