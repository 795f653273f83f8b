import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { alive } from '../../bench/cluster/proc.js';

const ORPHAN = fileURLToPath(new URL('./cluster-orphan.js', import.meta.url));

test('a cluster benchmark killed with SIGKILL leaves no generator and no watched child behind', async () => {
  const parent = spawn(process.execPath, [ORPHAN], { stdio: ['ignore', 'pipe', 'inherit'] });
  let line = '';
  const timer = setTimeout(() => parent.kill('SIGKILL'), 30_000);
  for await (const chunk of parent.stdout) {
    line += chunk;
    if (line.includes('\n')) break;
  }
  const { generator, sleeper } = JSON.parse(line) as { generator: number; sleeper: number };
  assert.ok(alive(generator) && alive(sleeper), 'both run while the benchmark does');
  parent.kill('SIGKILL');
  await once(parent, 'exit');
  clearTimeout(timer);
  const deadline = Date.now() + 10_000;
  while ((alive(generator) || alive(sleeper)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const left = [generator, sleeper].filter(alive);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  assert.deepEqual(left, [], 'the generator exits on disconnect, the reaper kills the watched child');
});
