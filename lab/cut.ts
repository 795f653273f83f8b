import type { Lab } from './lab.js';

/** The table of a cut, apart from the core's own (`buddylab`) so lifting it leaves the rest alone. */
const CUT_TABLE = 'buddylab_cut';
const FAMILIES = ['bridge', 'ip'] as const;

/**
 * Cuts the internet between two public addresses (both ways, every protocol): a NAT rebinding or a
 * dead link between two homes, while each still reaches the server. The table lives in the run's own
 * core namespace, so deleting the lab removes it even if `lift` never runs.
 */
export async function cutBetween(lab: Lab, a: string, b: string): Promise<void> {
  // Bridged (same subnet) and routed traffic pass different hooks: cut both, as lab/nft.ts does.
  const ruleset = FAMILIES.flatMap((family) => [
    `table ${family} ${CUT_TABLE} {`,
    '  chain forward {',
    '    type filter hook forward priority -10; policy accept;',
    `    ip saddr ${a} ip daddr ${b} drop`,
    `    ip saddr ${b} ip daddr ${a} drop`,
    '  }',
    '}',
    '',
  ]).join('\n');
  await lab.exec('internet', ['nft', '-f', '-'], { input: ruleset });
}

/** Lifts a cut made by `cutBetween`. */
export async function liftCut(lab: Lab): Promise<void> {
  for (const family of FAMILIES) await lab.exec('internet', ['nft', 'delete', 'table', family, CUT_TABLE]);
}
