import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rootNftTables } from '../../lab/cleanup.js';
import { run } from '../../lab/command.js';
import { Lab } from '../../lab/lab.js';
import { findTopology, TOPOLOGIES } from '../../lab/topologies.js';
import type { TopologySpec } from '../../lab/topology.js';
import { requireLab, withLab } from './support.js';

/** The lab stays inside its namespaces: nothing in the root namespace, no route out of the lab. */

const LAB_CLI = fileURLToPath(new URL('../../lab/cli.js', import.meta.url));

test('a running lab has no interface or nft table in the root namespace and no route out of the lab', async (t) => {
  if (!requireLab(t)) return;
  await withLab(new Lab(findTopology('carrier-nat-hairpin') as TopologySpec), async (lab) => {
    const rootLinks = await run(['ip', '-o', 'link', 'show']);
    assert.doesNotMatch(
      rootLinks.stdout,
      new RegExp(`${lab.runId}-`),
      'no lab interface in the root namespace',
    );
    assert.deepEqual(
      (await rootNftTables()).filter((table) => table.includes('buddylab')),
      [],
      'no lab nft table in the root namespace',
    );
    for (const family of ['-4', '-6']) {
      const core = await lab.exec('internet', ['ip', family, 'route', 'show', 'default']);
      assert.equal(core.stdout.trim(), '', `the internet core has no ${family} default route`);
    }
  });
});

test('`lab list` names every topology with its summary', async () => {
  const { stdout } = await run([process.execPath, LAB_CLI, 'list']);
  for (const topology of TOPOLOGIES) assert.match(stdout, new RegExp(`^${topology.name}\\s+\\S`, 'm'));
});
