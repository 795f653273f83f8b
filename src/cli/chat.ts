import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import {
  answerFrame,
  type Client,
  ClientError,
  declineHello,
  type JudgeChoice,
  type PathChoice,
  type PeerConnection,
  readHello,
  readTyped,
  StreamReader,
  TransferDeclinedError,
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
          await requireBuddy(client, user);
          const { connection, reader } =
            client.user < user ? await dial(client, user, flags, out) : await waitForCall(client, user, out);
          await converse(out, connection, reader);
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
): Promise<{ connection: PeerConnection; reader: StreamReader }> {
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
  return { connection, reader: new StreamReader(connection) };
}

/** Waiting for a non-buddy would be for ever: say so at once (exit 4, as `send` does). */
async function requireBuddy(client: Client, user: string): Promise<void> {
  const entry = (await client.listBuddies()).find((b) => b.user === user);
  if (entry?.state !== 'accepted')
    throw new ClientError(
      'NOT_BUDDY',
      entry
        ? `${user} has not accepted you as a buddy yet`
        : `${user} is not your buddy (buddylink buddy add ${user})`,
    );
}

/** Waits for the buddy's chat: anything else (a file, someone else) is told why not, and waiting goes on. */
function waitForCall(
  client: Client,
  user: string,
  out: Output,
): Promise<{ connection: PeerConnection; reader: StreamReader }> {
  out.note(`waiting for ${user} to connect…`);
  return new Promise((resolve) => {
    client.on('connection', (connection) => {
      connection.on('error', () => {});
      if (connection.remoteUser !== user) {
        void declineHello(connection, 'DECLINED', 'they are chatting with someone else');
        return;
      }
      const reader = new StreamReader(connection);
      readHello(reader).then(
        async (hello) => {
          if (hello.kind !== 'chat') {
            await declineHello(connection, 'NOT_RECEIVING', 'they are chatting, not receiving files');
            out.note(`buddylink: ${user} sent a file; told them you are chatting`);
            return;
          }
          await writeFrame(connection, { kind: 'answer', accept: true, files: [] });
          resolve({ connection, reader });
        },
        () => connection.destroy(),
      );
    });
  });
}

async function converse(out: Output, connection: PeerConnection, reader: StreamReader): Promise<void> {
  const peer = connection.remoteUser;
  out.event(
    { event: 'connected', buddy: peer, path: connection.path, ms: connection.connectMs },
    `connected to ${peer} over the ${connection.path} path; type lines, Ctrl-D to leave`,
  );
  connection.on('error', () => {});
  if (connection.initiator) {
    // The answerer says yes to a chat, or why not (it runs `receive`, or chats with someone else).
    const answer = await readTyped(reader, answerFrame, 'answer');
    if (!answer.accept) throw new TransferDeclinedError(answer.code, `${peer} cannot chat: ${answer.reason}`);
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
