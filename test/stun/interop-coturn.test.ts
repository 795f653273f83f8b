import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { findOnPath } from '../../bench/harness/processes.js';
import { queryStun, startStunServer } from '../../src/stun/index.js';

/**
 * Interoperability with a STUN client this project did not write: coturn's turnutils_stunclient
 * (Debian package coturn). It prints lines like "UDP reflexive addr: 127.0.0.1:56214".
 */
const CLIENT = 'turnutils_stunclient';
const CLIENT_TIMEOUT_MS = 5000;

const SERVER = 'turnserver';
const SERVER_START_TIMEOUT_MS = 5000;

const clientPath = findOnPath(CLIENT);
const serverPath = findOnPath(SERVER);
const missing = clientPath === undefined;
if (missing && process.env.CI === 'true') {
  test('coturn turnutils_stunclient is installed in CI', () => {
    assert.fail(`${CLIENT} not found on PATH; .ci/run must apt-get install coturn`);
  });
}
const skip = missing ? `${CLIENT} not installed (apt-get install coturn); interop not checked` : false;

async function reflexiveAddressSeenBy(host: string, port: number): Promise<{ host: string; port: number }> {
  const { stdout } = await promisify(execFile)(clientPath!, ['-p', String(port), host], {
    timeout: CLIENT_TIMEOUT_MS,
  });
  const match = /UDP reflexive addr: (.+):(\d+)\s*$/m.exec(stdout);
  assert.ok(match, `turnutils_stunclient printed a reflexive address:\n${stdout}`);
  return { host: match[1]!, port: Number(match[2]) };
}

test('coturn turnutils_stunclient reads its IPv4 reflexive address from our server', { skip }, async () => {
  let answered = 0;
  const server = await startStunServer({
    host: '127.0.0.1',
    port: 0,
    onBinding: (o) => {
      if (o === 'answered') answered++;
    },
  });
  try {
    const reflexive = await reflexiveAddressSeenBy('127.0.0.1', server.port);
    assert.equal(reflexive.host, '127.0.0.1');
    assert.ok(reflexive.port > 0 && reflexive.port < 65536 && reflexive.port !== server.port);
    assert.ok(answered >= 1);
  } finally {
    await server.close();
  }
});

test('coturn turnutils_stunclient reads its IPv6 reflexive address from a dual-stack server', {
  skip,
}, async () => {
  const server = await startStunServer({ host: '::', port: 0 });
  try {
    const v6 = await reflexiveAddressSeenBy('::1', server.port);
    assert.equal(v6.host, '::1');
    const v4 = await reflexiveAddressSeenBy('127.0.0.1', server.port);
    assert.equal(v4.host, '127.0.0.1', 'IPv4 clients of a dual-stack server are answered as IPv4');
  } finally {
    await server.close();
  }
});

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

test('our client reads its reflexive address and port from coturn as a STUN server', {
  skip: serverPath ? false : `${SERVER} not installed (apt-get install coturn); interop not checked`,
}, async () => {
  const [serverPort, clientPort] = [await freeUdpPort(), await freeUdpPort()];
  const scratch = mkdtempSync(join(tmpdir(), 'buddylink-coturn-'));
  const coturn = spawn(
    serverPath!,
    [
      '-n',
      '--listening-ip=127.0.0.1',
      `--listening-port=${serverPort}`,
      '--stun-only',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      '--relay-threads=1',
      '--log-file=stdout',
      `--pidfile=${join(scratch, 'turnserver.pid')}`,
      `--db=${join(scratch, 'turndb')}`,
    ],
    { stdio: 'ignore' },
  );
  try {
    // coturn takes a moment to open its port; RFC 8489 retransmission covers the start.
    const mapped = await queryStun(
      { host: '127.0.0.1', port: serverPort },
      { localAddress: '127.0.0.1', localPort: clientPort, rtoMs: 100, timeoutMs: SERVER_START_TIMEOUT_MS },
    );
    assert.deepEqual(mapped, { host: '127.0.0.1', port: clientPort });
  } finally {
    coturn.kill('SIGTERM');
    rmSync(scratch, { recursive: true, force: true });
  }
});
