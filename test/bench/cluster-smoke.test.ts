import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type TestServices, testServices } from '../store/services.js';

const BENCH = fileURLToPath(new URL('../../bench/cluster.js', import.meta.url));

let services: TestServices | string = 'not started';
before(async () => {
  services = await testServices();
});
after(async () => {
  if (typeof services !== 'string') await services.stop();
});

test('the several-nodes benchmark runs end to end at a tiny size and reports every figure', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [BENCH, '--clients', '60', '--nodes', '2', '--samples', '30'],
    {
      env: {
        ...process.env,
        BUDDYLINK_TEST_POSTGRES: services.postgres,
        BUDDYLINK_TEST_REDIS: services.redis,
      },
      timeout: 120_000,
    },
  );
  assert.match(stdout, /\| cluster, on two nodes \| \d+\.\d+ \| \d+\.\d+ \| \d+\.\d+ \| \d+\.\d+ \|/);
  assert.match(stdout, /logons: 60 token logons over 2 nodes: \d+\/s/);
  assert.match(stdout, /held: 60 clients on 2 nodes/);
  assert.match(stdout, /floor: bare ws server holding 30 clients/);
});
