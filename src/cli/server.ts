import type { Command } from 'commander';

/** Placeholder: the server command is built in src/server (issue 3). */
export function registerServerCommand(program: Command): void {
  program.command('server').description('run the buddylink server');
}
