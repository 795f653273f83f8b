import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../client/helpers.js';
import { collect, startCli } from './run-cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PORTS = {
  BUDDYLINK_PORT: '0',
  BUDDYLINK_STUN_PORT: '0',
  BUDDYLINK_HTTP_PORT: '0',
  BUDDYLINK_HOST: '127.0.0.1',
};

function listening(child: ReturnType<typeof spawn>): Promise<{ ws: string }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no listening line: ${text}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      text += d.toString();
      const line = text.split('\n').find((l) => l.includes('"event":"listening"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { ws: string });
      }
    });
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

test('9: killing `npm start` stops the server and frees its ports', async () => {
  const npm = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    env: { ...process.env, ...PORTS, BUDDYLINK_DATA: await tempDir(), BUDDYLINK_JSON: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => npm.once('close', resolve));
  try {
    const { ws } = await listening(npm);
    const port = Number(new URL(ws).port);
    assert.equal(await refused(port), false, 'the server listens');
    npm.kill('SIGTERM');
    await exited;
    let free = false;
    for (let i = 0; i < 50 && !free; i++) {
      free = await refused(port);
      if (!free) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(free, `port ${port} is still held after npm was killed`);
  } finally {
    npm.kill('SIGKILL');
  }
});

test('9: a second server on the same data directory is refused while the first runs, and the lock goes with it', async () => {
  const data = await tempDir();
  const args = [
    'server',
    '--json',
    '--data',
    data,
    '--port',
    '0',
    '--stun-port',
    '0',
    '--http-port',
    '0',
    '--host',
    '127.0.0.1',
  ];
  const first = startCli(args, {});
  const firstDone = collect(first, performance.now(), 30_000);
  try {
    await listening(first);
    const second = await collect(startCli(args, {}), performance.now(), 30_000);
    assert.equal(second.code, 1);
    assert.match(
      second.stderr,
      new RegExp(`another buddylink server \\(pid ${first.pid}\\) uses the data directory`),
    );
  } finally {
    first.kill('SIGTERM');
  }
  assert.equal((await firstDone).code, 0);
  const third = startCli(args, {});
  const thirdDone = collect(third, performance.now(), 30_000);
  await listening(third);
  third.kill('SIGTERM');
  assert.equal((await thirdDone).code, 0);
});
