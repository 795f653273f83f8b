import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Client } from '../client/index.js';
import { askPassword, logonOptions, openClient, readGlobals, withGlobals } from './globals.js';
import { runCommand, UsageError } from './output.js';
import { promptPassword } from './prompt.js';

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

  withGlobals(account.command('sessions'))
    .description('list the sessions (devices) of your account')
    .action(async (_flags: unknown, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        const client = await openClient(globals);
        const sessions = await client.sessions();
        const lines = sessions.map(
          (s) =>
            `${s.device.padEnd(24)} ${s.online ? 'online ' : 'offline'} ${s.current ? '(this one) ' : ''}` +
            `expires ${new Date(s.expiresAt).toISOString()}`,
        );
        out.event({ event: 'sessions', sessions }, lines.length > 0 ? lines.join('\n') : 'no sessions');
        await client.close();
      });
    });

  withGlobals(account.command('revoke').argument('[device]', 'device name, as `account sessions` shows it'))
    .option('--all', 'every session but this one')
    .description('end the sessions of DEVICE (or --all others) now; their devices must log in again')
    .action(async (device: string | undefined, flags: { all?: boolean }, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        if ((device === undefined) === (flags.all !== true))
          throw new UsageError('give a DEVICE or --all, not both');
        const client = await openClient(globals);
        const revoked = await client.revokeSessions(flags.all ? 'all' : { device: device ?? '' });
        out.event({ event: 'revoked', revoked }, `ended ${revoked} session${revoked === 1 ? '' : 's'}`);
        await client.close();
      });
    });

  withGlobals(account.command('password'))
    .description(
      'change your password (env BUDDYLINK_PASSWORD, BUDDYLINK_NEW_PASSWORD); ends every other session',
    )
    .action(async (_flags: unknown, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        const client = await openClient(globals);
        try {
          const current = await askPassword(client.user);
          const fresh = process.env.BUDDYLINK_NEW_PASSWORD || (await promptPassword('new password: '));
          const revoked = await client.changePassword(current, fresh);
          out.event(
            { event: 'password', revoked },
            `password changed; ended ${revoked} other session${revoked === 1 ? '' : 's'}`,
          );
        } finally {
          await client.close();
        }
      });
    });
}
