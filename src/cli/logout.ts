import type { Command } from 'commander';
import { Home } from '../client/index.js';
import { openClient, readGlobals, withGlobals } from './globals.js';
import { plainLine, runCommand } from './output.js';

/** `buddylink logout`: revokes the kept session token and forgets it. */
export function registerLogout(program: Command): void {
  withGlobals(program.command('logout'))
    .description('log off and forget the kept session token')
    .action(async (_flags: unknown, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        const home = new Home(globals.home);
        if (!(await home.session())) {
          // Nothing to revoke: say so plainly; logging out twice is not a failure.
          out.event({ event: 'logout', wasLoggedIn: false }, 'not logged in: nothing to log out');
          return;
        }
        try {
          const client = await openClient(globals);
          await client.logoff({ revokeToken: true });
        } catch (error) {
          // An expired or revoked session is logged out already; anything else is worth saying.
          out.note(
            `buddylink: the server did not revoke the token (${plainLine(error)}); forgotten here anyway`,
          );
        } finally {
          await home.forgetSession();
        }
        out.event({ event: 'logout', wasLoggedIn: true }, 'logged off');
      });
    });
}
