import type { Command } from 'commander';
import { Client } from '../client/index.js';
import { askPassword, logonOptions, readGlobals, withGlobals } from './globals.js';
import { runCommand } from './output.js';

/** `buddylink login USER`: logs on with the password and keeps the session token in --home. */
export function registerLogin(program: Command): void {
  withGlobals(program.command('login').argument('<user>', 'user name'))
    .description('log on with your password and keep the session token for later commands')
    .action(async (user: string, _flags: unknown, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        const options = await logonOptions(globals, user);
        const client = await Client.logon({
          ...options,
          password: await askPassword(user),
          useKeptToken: false,
        });
        out.event({ event: 'login', user: client.user }, `logged on as ${client.user}`);
        await client.close();
      });
    });
}
