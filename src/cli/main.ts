#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { EXIT, EXIT_HELP } from './exit-codes.js';
import { registerServerCommand } from './server.js';

// Whatever escapes a command (a stray 'error' event, a bug) is one plain line, never a stack trace.
const last = (error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`\nbuddylink: ${(message.split('\n')[0] ?? '').trim() || 'failed'}\n`);
  if (process.argv.includes('--json'))
    process.stdout.write(
      `${JSON.stringify({ event: 'error', code: 'INTERNAL', message: message.split('\n')[0] })}\n`,
    );
  process.exit(EXIT.other);
};
// The server keeps Node's own report (its operator wants the stack in the log).
if (process.argv[2] !== 'server') {
  process.on('uncaughtException', last);
  process.on('unhandledRejection', last);
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

const program = new Command('buddylink')
  .description('Peer-to-peer links between IM buddies: send files, folders, pipes and messages, or chat')
  .version(version(), '-V, --version', 'print the version')
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Examples:
  buddylink account create alice --server ws://im.example:7070
  buddylink buddy add bob
  buddylink send bob photo.jpg ~/album        files and folders
  buddylink receive --out ~/Downloads         asks before each transfer
  buddylink chat bob

${EXIT_HELP}`,
  )
  .exitOverride((err) => {
    // commander's own parse errors (unknown option, missing argument) are usage errors: exit 2.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(EXIT.ok);
    // 'commander.help' is help shown *instead of* a command (none given): a usage error, not success.
    process.exit(EXIT.usage);
  });

registerServerCommand(program);
// `buddylink server` must start fast: the client commands (UDX, Noise, file transfer) load only when asked for.
if (process.argv[2] !== 'server') {
  const { registerClientCommands } = await import('./commands.js');
  registerClientCommands(program);
}

await program.parseAsync(process.argv);
