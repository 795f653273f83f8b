import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createUser, makeBuddies } from './helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const FREE_PORTS = ['--port', '0', '--stun-port', '0', '--http-port', '0', '--data', ':memory:'];

interface ServerProcess {
  child: ChildProcess;
  listening: { event: string; ws: string; stun: string; http: string };
  stdout: () => string;
  stderr: () => string;
}

async function spawnServer(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN, 'server', '--json', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('no listening line')), 5000),
  );
  const line = await Promise.race([firstLine, timeout]);
  return { child, listening: JSON.parse(line), stdout: () => out, stderr: () => err };
}

async function stop(server: ServerProcess): Promise<number | null> {
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  const [code] = await exited;
  return code as number | null;
}

test('`buddylink server --json` prints the listening line first and exits cleanly on SIGTERM', async () => {
  const started = performance.now();
  const server = await spawnServer(['--host', '127.0.0.1', ...FREE_PORTS]);
  const startupMs = performance.now() - started;
  assert.deepEqual(Object.keys(server.listening), ['event', 'ws', 'stun', 'http']);
  assert.equal(server.listening.event, 'listening');
  assert.match(server.listening.ws, /^ws:\/\/127\.0\.0\.1:[1-9]\d*$/);
  assert.match(server.listening.stun, /^udp:\/\/127\.0\.0\.1:[1-9]\d*$/);
  assert.match(server.listening.http, /^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
  assert.equal((await fetch(`${server.listening.http}/healthz`)).status, 200);
  assert.equal(await stop(server), 0);
  assert.equal(server.stdout().trim().split('\n').length, 1, 'stdout holds the listening line only');
  // Generous for a loaded CI machine; measured ~0.3 s idle (compiled JS, no TypeScript loader).
  assert.ok(startupMs < 5000, `started in ${startupMs.toFixed(0)} ms`);
});

test('an IPv6 host is printed in brackets', async () => {
  const server = await spawnServer(['--host', '::1', ...FREE_PORTS]);
  assert.match(server.listening.ws, /^ws:\/\/\[::1\]:\d+$/);
  assert.match(server.listening.stun, /^udp:\/\/\[::1\]:\d+$/);
  assert.equal(await stop(server), 0);
});

test('options come from BUDDYLINK_* variables, and a bad option is a usage error', async () => {
  const server = await spawnServer(['--host', '127.0.0.1', ...FREE_PORTS], {
    BUDDYLINK_REVEAL_ADDRESSES: 'true',
  });
  const running = { urls: server.listening };
  const alice = await createUser(running, 'alice', { localAddress: '127.0.0.2' });
  const bob = await createUser(running, 'bob', { localAddress: '127.0.0.3' });
  await makeBuddies(alice, bob);
  const result = await alice.client.ok('registeredAddress', { buddy: 'bob' });
  assert.equal((result.address as { host: string }).host, '127.0.0.3');
  await alice.client.close();
  await bob.client.close();
  assert.equal(await stop(server), 0);

  const bad = spawn(process.execPath, [MAIN, 'server', '--v4-prefix', '40', ...FREE_PORTS], {
    stdio: 'ignore',
  });
  const [code] = await once(bad, 'exit');
  assert.equal(code, 2);
});

test('the logs never contain a client address in clear', async () => {
  const args = ['--host', '127.0.0.1', ...FREE_PORTS, '--log-level', 'trace', '--trust-proxy', '127.0.0.5'];
  const server = await spawnServer(args);
  const running = { urls: server.listening };
  const alice = await createUser(running, 'alice', { localAddress: '127.0.0.9' });
  const bob = await createUser(running, 'bob', {
    localAddress: '127.0.0.5',
    headers: { 'x-forwarded-for': '198.51.100.77' },
  });
  await makeBuddies(alice, bob);
  await alice.client.ok('sameNat', { buddy: 'bob' });
  await alice.client.failure('logon', { user: 'alice', password: 'wrong password' });
  alice.client.socket.send('garbage');
  await alice.client.settle();
  await alice.client.close();
  await bob.client.close();
  assert.equal(await stop(server), 0);
  const logs = server.stderr();
  assert.match(logs, /logged on/, 'the logs were written');
  for (const address of ['127.0.0.9', '127.0.0.5', '198.51.100.77']) {
    assert.ok(!logs.includes(address), `logs reveal ${address}`);
  }
});
