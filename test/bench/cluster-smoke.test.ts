import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type TestServices, testServices } from '../store/services.js';

const BENCH = fileURLToPath(new URL('../../bench/cluster.js', import.meta.url));

let services: TestServices | string = 'not started';
let results = '';
before(async () => {
  services = await testServices();
  results = mkdtempSync(join(tmpdir(), 'buddylink-cluster-bench-'));
});
after(async () => {
  if (typeof services !== 'string') await services.stop();
  rmSync(results, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ stdout: string }> {
  if (typeof services === 'string') throw new Error(services);
  return promisify(execFile)(process.execPath, [BENCH, ...args, '--results-dir', results], {
    env: {
      ...process.env,
      BUDDYLINK_TEST_POSTGRES: services.postgres,
      BUDDYLINK_TEST_REDIS: services.redis,
    },
    timeout: 120_000,
  });
}

test('the several-nodes benchmark runs end to end at a tiny size and reports every figure', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const { stdout } = await run([
    '--clients',
    '60',
    '--nodes',
    '2',
    '--generators',
    '2',
    '--samples',
    '30',
    '--hold-seconds',
    '1',
  ]);
  for (const mode of ['paced', 'back to back'])
    assert.match(
      stdout,
      new RegExp(
        `\\| ${mode}: cluster, on two nodes \\| \\d+\\.\\d+ \\| \\d+\\.\\d+ \\| \\d+\\.\\d+ \\| \\d+\\.\\d+ \\|`,
      ),
    );
  assert.match(stdout, /back to back: cross-node \/ single node: judgement p50 \d+\.\d+x/);
  assert.match(stdout, /logons: 60 token logons over 2 nodes from 2 generators: \d+\/s/);
  assert.match(stdout, /held: 60 of 60 clients on 2 nodes; the nodes' gauges say 60 logged on; failed 0/);
  assert.match(stdout, /alive after 1 s: 60 sockets open, 60\/60 sampled clients answered a ping/);
  assert.match(stdout, /\| n1 \| 30 \| 30 \| \d+ \/ \d+ \|/);
  assert.match(stdout, /floor: bare ws server holding 30 clients/);
  const files = readdirSync(results).filter((f) => f.startsWith('cluster-'));
  assert.equal(files.length, 1);
  const record = JSON.parse(readFileSync(join(results, files[0]!), 'utf8'));
  assert.equal(record.hold.held, 60);
  assert.equal(record.hold.perGenerator.length, 2);
});

test('a fill run stops each node at its descriptor limit, and the nodes still serve who they hold', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  rmSync(results, { recursive: true, force: true });
  // 300 descriptors per node: ~265 clients each after the node's own (listeners, pools, epoll…).
  const { stdout } = await run([
    ...['--clients', '800', '--nodes', '2', '--generators', '2', '--no-latency', '--hold-seconds', '1'],
    ...['--node-fd-limit', '300', '--give-up-after', '30'],
  ]);
  const held = Number(/held: (\d+) of 800 clients/.exec(stdout)?.[1]);
  assert.ok(held > 400 && held < 600, `held ${held}: between 2 × 200 and 2 × 300`);
  assert.match(stdout, /nodes given up as full: n[01], n[01]/);
  // Both nodes are alive and at their limit: that, not the generators, is where the fill stopped.
  // …and the heap is still read after a GC: the inspector session was opened before the fill (RSS
  // growth may come out negative at this size: the collection frees start-up garbage too).
  for (const node of ['n0', 'n1'])
    assert.match(
      stdout,
      new RegExp(`\\| ${node} \\| \\d+ \\| [^|]+ \\| 300 / 300 \\| \\d+ \\| -?[\\d.]+ \\| [\\d.]+ \\|`),
    );
  assert.doesNotMatch(stdout, /\(dead\)/);
  assert.match(
    stdout,
    new RegExp(`alive after 1 s: ${held} sockets open, (\\d+)/\\1 sampled clients answered`),
  );
});
