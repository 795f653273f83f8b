import type { Command } from 'commander';
import { formatEndpoint } from '../protocol/index.js';
import { openClient, readGlobals, withGlobals } from './globals.js';
import { runCommand } from './output.js';

/** `buddylink whoami`: the user, and the registered, global and local addresses of this device. */
export function registerWhoami(program: Command): void {
  withGlobals(program.command('whoami'))
    .description('show who you are and your registered, global (STUN) and local addresses')
    .action(async (_flags: unknown, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        const client = await openClient(globals);
        const [registered, global] = await Promise.all([client.ownAddress(), client.globalAddress()]);
        const local = client.localAddresses().map(formatEndpoint);
        out.event(
          {
            event: 'whoami',
            user: client.user,
            registered: formatEndpoint(registered),
            global: formatEndpoint(global),
            local,
          },
          [
            `user        ${client.user}`,
            `registered  ${formatEndpoint(registered)}   (as the server sees you)`,
            `global      ${formatEndpoint(global)}   (your peer socket, by STUN)`,
            `local       ${local.join(', ')}`,
          ].join('\n'),
        );
        await client.close();
      });
    });
}
