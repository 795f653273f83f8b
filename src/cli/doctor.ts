import type { Command } from 'commander';
import { formatEndpoint } from '../protocol/index.js';
import { openClient, readGlobals, withGlobals } from './globals.js';
import { runCommand } from './output.js';

/**
 * `buddylink doctor`, like `tailscale netcheck`: what the network lets this device do. UDP and the
 * STUN round trip, how the NAT maps and filters (RFC 5780 terms, from the server's two STUN ports),
 * port preservation, hairpinning, the address families, and for each online buddy the server's
 * judgement and the path a connect would try first. Facts a failing check cannot give are shown as
 * unknown, never guessed.
 */
export function registerDoctor(program: Command): void {
  withGlobals(program.command('doctor'))
    .description('check UDP, STUN, how your NAT maps and filters, and the path to each online buddy')
    .action(async (_flags: unknown, command: Command) => {
      const globals = readGlobals(command);
      await runCommand(globals.json, async (out) => {
        const client = await openClient(globals);
        try {
          const nat = await client.natBehaviour().catch((error: unknown) => {
            out.note(`buddylink: no STUN answer (${error instanceof Error ? error.message : error})`);
            return undefined;
          });
          const families = new Set(
            client.localAddresses().map((e) => (e.host.includes(':') ? 'IPv6' : 'IPv4')),
          );
          if (nat?.global.host.includes(':')) families.add('IPv6');
          const easy = nat?.mapping !== 'address-and-port-dependent';
          out.event(
            {
              event: 'doctor',
              udp: nat !== undefined,
              stunServer: nat ? formatEndpoint(nat.stunServer) : null,
              stunRttMs: nat?.stunRttMs ?? null,
              global: nat ? formatEndpoint(nat.global) : null,
              behindNat: nat?.behindNat ?? null,
              mapping: nat?.mapping ?? 'unknown',
              filtering: nat?.filtering ?? 'unknown',
              portPreserved: nat?.portPreserved ?? null,
              hairpin: nat?.hairpin ?? null,
              families: [...families].sort(),
            },
            nat
              ? [
                  `UDP            yes (STUN ${formatEndpoint(nat.stunServer)}, ${nat.stunRttMs} ms)`,
                  `global         ${formatEndpoint(nat.global)}${nat.behindNat ? '' : '   (your own address: no NAT)'}`,
                  `mapping        ${nat.mapping}${easy ? '' : '   (a new port per destination: hard to punch)'}`,
                  `filtering      ${nat.filtering}`,
                  `port kept      ${nat.portPreserved ? 'yes' : 'no'}`,
                  `hairpinning    ${nat.hairpin === undefined ? 'n/a (no NAT)' : nat.hairpin ? 'yes' : 'no'}`,
                  `families       ${[...families].sort().join(', ') || 'none'}`,
                ].join('\n')
              : 'UDP            no answer from STUN: direct internet paths are unlikely; the relay remains',
          );
          for (const buddy of await client.listBuddies()) {
            if (buddy.state !== 'accepted' || !buddy.online) continue;
            const same = await client.sameNat(buddy.user).catch(() => undefined);
            const path = same === undefined ? null : same ? 'lan' : nat ? 'internet' : 'relay';
            out.event(
              { event: 'buddy', buddy: buddy.user, same: same ?? null, path },
              same === undefined
                ? `${buddy.user.padEnd(14)} no judgement`
                : same
                  ? `${buddy.user.padEnd(14)} same NAT: LAN first (TCP, else UDX)`
                  : nat
                    ? `${buddy.user.padEnd(14)} another NAT: internet (punch${easy ? '' : '; birthday punching if theirs is endpoint-independent, relay at once if it is hard too'}), relay as last resort`
                    : `${buddy.user.padEnd(14)} another NAT: relay (no UDP)`,
            );
          }
        } finally {
          await client.close();
        }
      });
    });
}
