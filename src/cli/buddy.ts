import type { Command } from 'commander';
import { openClient, readGlobals, withGlobals } from './globals.js';
import { runCommand } from './output.js';

/** `buddylink buddy add|accept|decline|remove USER` and `buddylink buddy list`. */
export function registerBuddy(program: Command): void {
  const buddy = program.command('buddy').description('manage buddies (mutual consent)');

  withGlobals(buddy.command('add').argument('<user>'))
    .description('ask USER to become your buddy (or accept their pending request)')
    .action(async (user: string, _flags: unknown, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        const client = await openClient(globals);
        const state = await client.requestBuddy(user);
        out.event(
          { event: 'buddy', action: 'add', user, state },
          state === 'accepted' ? `${user} and you are buddies` : `asked ${user}; waiting for them to accept`,
        );
        await client.close();
      });
    });

  withGlobals(buddy.command('accept').argument('<user>'))
    .description("accept USER's buddy request; their key is pinned from now on")
    .action(async (user: string, _flags: unknown, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        const client = await openClient(globals);
        const accepted = await client.acceptBuddy(user);
        out.event(
          { event: 'buddy', action: 'accept', user: accepted.user, publicKey: accepted.publicKey },
          `${accepted.user} and you are buddies (key ${accepted.publicKey.slice(0, 16)}…)`,
        );
        await client.close();
      });
    });

  for (const action of ['decline', 'remove'] as const) {
    withGlobals(buddy.command(action).argument('<user>'))
      .description(action === 'decline' ? "decline USER's buddy request" : 'remove USER from your buddies')
      .action(async (user: string, _flags: unknown, command: Command) => {
        const globals = readGlobals(command);
        await runCommand(globals.json, async (out) => {
          const client = await openClient(globals);
          if (action === 'decline') await client.declineBuddy(user);
          else await client.removeBuddy(user);
          out.event(
            { event: 'buddy', action, user },
            action === 'decline' ? `declined ${user}` : `removed ${user}`,
          );
          await client.close();
        });
      });
  }

  withGlobals(buddy.command('list'))
    .description('list buddies, pending requests and who is online')
    .action(async (_flags: unknown, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        const client = await openClient(globals);
        const buddies = await client.listBuddies();
        const lines = buddies.map((b) => {
          const state = b.state === 'accepted' ? (b.online ? 'online' : 'offline') : b.state;
          return `${b.user.padEnd(20)} ${state}`;
        });
        out.event({ event: 'buddies', buddies }, lines.length > 0 ? lines.join('\n') : 'no buddies yet');
        await client.close();
      });
    });

  for (const action of ['block', 'unblock'] as const) {
    withGlobals(buddy.command(action).argument('<user>'))
      .description(
        action === 'block'
          ? 'block USER: any relation ends and USER sees nothing new of you (XEP-0191)'
          : 'unblock USER (they are not your buddy again until a new request is accepted)',
      )
      .action(async (user: string, _flags: unknown, command: Command) => {
        const globals = readGlobals(command);
        await runCommand(globals.json, async (out) => {
          const client = await openClient(globals);
          if (action === 'block') await client.blockUser(user);
          else await client.unblockUser(user);
          out.event({ event: 'buddy', action, user }, `${action}ed ${user}`);
          await client.close();
        });
      });
  }

  withGlobals(buddy.command('blocked'))
    .description('list the users you blocked')
    .action(async (_flags: unknown, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        const client = await openClient(globals);
        const users = await client.blockedUsers();
        out.event({ event: 'blocked', users }, users.length > 0 ? users.join('\n') : 'nobody blocked');
        await client.close();
      });
    });
}
