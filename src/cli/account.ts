import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Client } from '../client/index.js';
import { askPassword, logonOptions, readGlobals, withGlobals } from './globals.js';
import { runCommand } from './output.js';

/** `buddylink account create USER`: creates the account with this home's key, logs on, keeps the token. */
export function registerAccount(program: Command): void {
  const account = program.command('account').description('manage your account');
  withGlobals(account.command('create').argument('<user>', 'user name (lower-case)'))
    .description('create an account (and log on, keeping the session token in --home)')
    .action(async (user: string, _flags: unknown, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        const options = await logonOptions(globals, user);
        const password = await askPassword(user);
        // A key made for an account that was never created must not linger as if it were one.
        const identity = join(globals.home, 'identity.json');
        const hadIdentity = await access(identity).then(
          () => true,
          () => false,
        );
        const client = await Client.createAccount({ ...options, password }).catch(async (error: unknown) => {
          if (!hadIdentity) await rm(identity, { force: true });
          throw error;
        });
        out.event(
          { event: 'account', user: client.user, publicKey: client.publicKey },
          `created account ${client.user}; your key ${client.publicKey.slice(0, 16)}… is what buddies will pin`,
        );
        await client.close();
      });
    });
}
