import { spawn } from 'node:child_process';
import { Generator } from '../../bench/cluster/generator-protocol.js';
import { startReaper } from '../../bench/cluster/reaper.js';

/**
 * Helper of cluster-cleanup.test.ts: stands for a cluster benchmark about to be killed. Starts a generator
 * and a long-lived child watched by the reaper, prints their pids, then waits to be killed.
 */
const reaper = startReaper();
const generator = new Generator();
await generator.next('ready', 30_000);
const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' });
reaper.watch(sleeper.pid ?? 0);
// Give the reaper's IPC channel a moment to deliver the pid before we report ready.
await new Promise((r) => setTimeout(r, 300));
process.stdout.write(`${JSON.stringify({ generator: generator.pid, sleeper: sleeper.pid })}\n`);
setInterval(() => {}, 1000);
