import type { Command } from 'commander';
import { Home } from '../client/index.js';
import { openClient, readGlobals, withGlobals } from './globals.js';
import { runCommand } from './output.js';

/** `buddylink logout`: revokes the kept session token and forgets it. */
export function registerLogout(program: Command): void {
  withGlobals(program.command('logout'))
    .description('log off and forget the kept session token')
    .action(async (_flags: unknown, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        const home = new Home(globals.home);
        try {
          const client = await openClient(globals);
          await client.logoff({ revokeToken: true });
        } catch (error) {
          // An expired or revoked session is logged out already; anything else is worth saying.
          out.note(`buddylink: could not reach the server to revoke the token (${String(error)})`);
        } finally {
          await home.forgetSession();
        }
        out.event({ event: 'logout' }, 'logged off');
      });
    });
}
