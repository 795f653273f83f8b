import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertNothingLeft, listNamespaces } from '../../lab/cleanup.js';
import { run } from '../../lab/command.js';
import { Lab } from '../../lab/lab.js';
import { RunNames } from '../../lab/names.js';
import { findTopology } from '../../lab/topologies.js';
import type { TopologySpec } from '../../lab/topology.js';
import { requireLab, withLab } from './support.js';

/** The lab leaves nothing behind: after success, failure, a broken build, a signal, or a crash. */

const LAB_CLI = fileURLToPath(new URL('../../lab/cli.js', import.meta.url));
const oneNat = findTopology('one-nat') as TopologySpec;

/** Starts `lab up one-nat` as a separate process; resolves with it and its run id once the lab is up. */
async function startLabProcess(): Promise<{ child: ReturnType<typeof spawn>; runId: string }> {
  const child = spawn(process.execPath, [LAB_CLI, 'up', 'one-nat'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    const m = /is up \(run ([a-z0-9]+)\)/.exec(line);
    if (m?.[1]) return { child, runId: m[1] };
  }
  throw new Error('lab up ended before the lab was up');
}

test('a lab whose test fails is still torn down completely', async (t) => {
  if (!requireLab(t)) return;
  const lab = new Lab(oneNat);
  await assert.rejects(
    withLab(lab, async () => {
      throw new Error('the test failed');
    }),
    /the test failed/,
  );
  await assertNothingLeft(lab);
});

test('a lab whose build fails half-way removes what it had made', async (t) => {
  if (!requireLab(t)) return;
  const broken: TopologySpec = {
    ...oneNat,
    name: 'broken',
    // nft rejects this only once the namespaces and links exist.
    routers: oneNat.routers.map((r) => ({
      ...r,
      hairpin: [{ ports: [1000, 2000] as const, to: '300.1.1.1' }],
    })),
  };
  const lab = new Lab(broken);
  await assert.rejects(lab.up(), /nft/);
  await assertNothingLeft(lab);
});

test('SIGINT and SIGTERM to `lab up` tear the lab down before it exits', async (t) => {
  if (!requireLab(t)) return;
  const stopped = await Promise.all(
    (['SIGINT', 'SIGTERM'] as const).map(async (signal) => {
      const { child, runId } = await startLabProcess();
      const prefix = new RunNames(runId).namespacePrefix;
      assert.ok((await listNamespaces(prefix)).length > 0, 'the lab is up');
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
      return listNamespaces(prefix);
    }),
  );
  assert.deepEqual(stopped, [[], []]);
});

test('`lab down RUN` removes what a killed lab process left behind', async (t) => {
  if (!requireLab(t)) return;
  const { child, runId } = await startLabProcess();
  const prefix = new RunNames(runId).namespacePrefix;
  const exited = once(child, 'exit');
  child.kill('SIGKILL'); // no handler runs: the namespaces stay
  await exited;
  assert.ok((await listNamespaces(prefix)).length > 0, 'a killed lab leaves its namespaces');
  const down = await run([process.execPath, LAB_CLI, 'down', runId]);
  assert.match(down.stdout, /removed/);
  assert.deepEqual(await listNamespaces(prefix), []);
});
