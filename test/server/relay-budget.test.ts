import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { collect, startCli } from '../cli/run-cli.js';
import { buddyPair, closeAll, nextConnection } from '../client/helpers.js';

const CAP = 1024 * 1024;

test('the relay tells its budget when the session opens, and a cut at the cap is logged with its cause', async () => {
  const server = startCli(
    ['server', '--json', '--host', '127.0.0.1', '--port', '0', '--stun-port', '0', '--http-port', '0'].concat(
      ['--data', ':memory:', '--log-level', 'warn', '--relay-max-bytes', String(CAP)],
    ),
    {},
  );
  const done = collect(server, performance.now(), 60_000);
  const urls = await new Promise<RunningServer['urls']>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('no listening line')), 20_000);
    server.stdout?.on('data', (d: Buffer) => {
      text += d.toString();
      const line = text.split('\n').find((l) => l.includes('"event":"listening"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as RunningServer['urls']);
      }
    });
  });
  const [alice, bob] = await buddyPair({ urls } as RunningServer);
  try {
    const incoming = nextConnection(bob);
    const connection = await alice.connect('bob', { path: 'relay' });
    assert.deepEqual(connection.relayBudget, { bytes: CAP, bytesPerSecond: 8 * 1024 * 1024 });
    const answered = await incoming;
    answered.resume();
    answered.on('error', () => {});
    connection.on('error', () => {});
    const closed = new Promise((resolve) => connection.once('close', resolve));
    connection.write(Buffer.alloc(2 * CAP));
    await closed;
  } finally {
    await closeAll(alice, bob);
    server.kill('SIGTERM');
  }
  const { stderr } = await done;
  const cut = stderr.split('\n').find((l) => l.includes('relay session cut'));
  assert.ok(cut, stderr);
  const entry = JSON.parse(cut) as Record<string, unknown>;
  assert.equal(entry.cap, CAP);
  assert.match(String(entry.reason), /RELAY_LIMIT: session byte cap reached/);
  assert.deepEqual((entry.users as string[]).slice().sort(), ['alice', 'bob']);
});
