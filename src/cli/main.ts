#!/usr/bin/env node
import { Command } from 'commander';
import { EXIT } from './exit-codes.js';
import { registerServerCommand } from './server.js';

const program = new Command('buddylink')
  .description('Peer-to-peer links between IM buddies')
  .showHelpAfterError()
  .exitOverride((err) => {
    // commander's own parse errors (unknown option, missing argument) are usage errors: exit 2.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(EXIT.ok);
    if (err.code === 'commander.help') process.exit(EXIT.ok);
    process.exit(EXIT.usage);
  });

registerServerCommand(program);
// `buddylink server` must start fast: the client commands (UDX, Noise, file transfer) load only when asked for.
if (process.argv[2] !== 'server') {
  const { registerClientCommands } = await import('./commands.js');
  registerClientCommands(program);
}

await program.parseAsync(process.argv);
