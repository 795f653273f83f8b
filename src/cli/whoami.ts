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
        const [registered, global] = await Promise.all([
          client.ownAddress(),
          // No STUN answer (UDP blocked, no STUN server) is a fact to show, not a failure of whoami.
          client.globalAddress().catch((error: unknown) => {
            out.note(
              `buddylink: no global address by STUN (${error instanceof Error ? error.message : error})`,
            );
            return undefined;
          }),
        ]);
        const globalText = global ? formatEndpoint(global) : null;
        const local = client.localAddresses().map(formatEndpoint);
        out.event(
          {
            event: 'whoami',
            user: client.user,
            registered: formatEndpoint(registered),
            global: globalText,
            local,
          },
          [
            `user        ${client.user}`,
            `registered  ${formatEndpoint(registered)}   (as the server sees you)`,
            `global      ${globalText ?? 'unknown (no STUN answer)'}   (your peer socket, by STUN)`,
            `local       ${local.join(', ')}`,
          ].join('\n'),
        );
        await client.close();
      });
    });
}
