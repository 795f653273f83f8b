import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import {
  type Client,
  type JudgeChoice,
  type PathChoice,
  type PeerConnection,
  readHello,
  StreamReader,
  writeFrame,
} from '../client/index.js';
import { openClient, readGlobals, withGlobals } from './globals.js';
import { type Output, runCommand } from './output.js';
import { connectOptions, printAttempt } from './send.js';

/**
 * `buddylink chat USER`: line chat over the verified stream. Both sides run the same command; the
 * one whose name sorts first connects, the other waits, so the two never open two connections.
 */
export function registerChat(program: Command): void {
  const command = withGlobals(program.command('chat').argument('<user>'));
  for (const option of connectOptions()) command.addOption(option);
  command
    .description('chat with buddy USER, one line at a time (both of you run this)')
    .action(async (user: string, flags: { path: PathChoice; judge: JudgeChoice }, cmd: Command) => {
      const globals = readGlobals(cmd);
      await runCommand(globals.json, async (out) => {
        const client = await openClient(globals, { listen: true });
        try {
          const connection =
            client.user < user ? await dial(client, user, flags, out) : await waitForCall(client, user, out);
          await converse(out, connection);
        } finally {
          await client.close();
        }
      });
    });
}

async function dial(
  client: Client,
  user: string,
  flags: { path: PathChoice; judge: JudgeChoice },
  out: Output,
): Promise<PeerConnection> {
  const online = (await client.listBuddies()).find((b) => b.user === user)?.online === true;
  if (!online) {
    out.note(`waiting for ${user} to come online…`);
    await new Promise<void>((resolve) => {
      const onPresence = (p: { user: string; online: boolean }) => {
        if (p.user !== user || !p.online) return;
        client.off('presence', onPresence);
        resolve();
      };
      client.on('presence', onPresence);
    });
  }
  const connection = await client.connect(user, {
    path: flags.path,
    judge: flags.judge,
    onAttempt: (a) => printAttempt(out, a),
  });
  await writeFrame(connection, { kind: 'chat' });
  return connection;
}

function waitForCall(client: Client, user: string, out: Output): Promise<PeerConnection> {
  out.note(`waiting for ${user} to connect…`);
  return new Promise((resolve) => {
    client.on('connection', (connection) => {
      if (connection.remoteUser !== user) {
        connection.destroy();
        return;
      }
      resolve(connection);
    });
  });
}

async function converse(out: Output, connection: PeerConnection): Promise<void> {
  const peer = connection.remoteUser;
  out.event(
    { event: 'connected', buddy: peer, path: connection.path, ms: connection.connectMs },
    `connected to ${peer} over the ${connection.path} path; type lines, Ctrl-D to leave`,
  );
  const reader = new StreamReader(connection);
  if (!connection.initiator && (await readHello(reader)).kind !== 'chat') {
    connection.destroy();
    return;
  }
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => connection.write(`${line}\n`));
  input.on('close', () => connection.end());
  let partial = '';
  for (;;) {
    const chunk = await reader.readSome(64 * 1024);
    if (chunk.length === 0) break;
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const text of lines) out.event({ event: 'message', from: peer, text }, `${peer}: ${text}`);
  }
  if (partial) out.event({ event: 'message', from: peer, text: partial }, `${peer}: ${partial}`);
  input.close();
  out.event({ event: 'closed', buddy: peer }, `${peer} left`);
}
