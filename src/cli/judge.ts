import { type Command, Option } from 'commander';
import type { JudgeChoice } from '../client/index.js';
import { openClient, readGlobals, withGlobals } from './globals.js';
import { runCommand } from './output.js';

/** `buddylink judge USER`: the one bit, same NAT or not (S1–S4; --judge client: S201–S207). */
export function registerJudge(program: Command): void {
  withGlobals(program.command('judge').argument('<user>', 'an accepted, online buddy'))
    .addOption(
      new Option('--judge <who>', 'who compares the addresses')
        .choices(['server', 'client'])
        .default('server'),
    )
    .description('ask whether USER is behind the same NAT as you')
    .action(async (user: string, flags: { judge: JudgeChoice }, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        const client = await openClient(globals);
        const same = await client.sameNat(user, flags.judge);
        out.event(
          { event: 'judgement', buddy: user, same },
          same
            ? `${user} is behind the same NAT (LAN path)`
            : `${user} is behind another NAT (internet path)`,
        );
        await client.close();
      });
    });
}
