import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import type { RunningServer } from '../../src/server/index.js';
import { createUser, makeBuddies, TestClient, withServer } from './helpers.js';

/** A pair of buddies from 127.0.0.1 (another source than the attacker's) is served meanwhile. */
async function assertServed(server: RunningServer, suffix: string): Promise<void> {
  const a = await createUser(server, `served${suffix}a`);
  const b = await createUser(server, `served${suffix}b`);
  await makeBuddies(a, b);
  assert.deepEqual(await a.client.ok('sameNat', { buddy: b.user }), { same: true });
  const health = await fetch(`${server.urls.http}/healthz`, { signal: AbortSignal.timeout(3000) });
  assert.equal(health.status, 200);
  await a.client.close();
  await b.client.close();
}

/** Opens a WebSocket from `localAddress`; resolves with it, or with null when the server cut it. */
function tryOpen(url: string, localAddress: string): Promise<WebSocket | null> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { localAddress });
    socket.once('open', () => resolve(socket));
    socket.once('error', () => resolve(null));
  });
}

test('idle connections from one source beyond the limit are refused, another user is served', async () => {
  await withServer({ maxConnectionsPerSource: 10 }, async (server) => {
    const attempts = await Promise.all(
      Array.from({ length: 40 }, () => tryOpen(server.urls.ws, '127.0.0.2')),
    );
    const open = attempts.filter((s) => s !== null);
    assert.equal(open.length, 10, 'ten held, thirty refused');
    const metrics = await (await fetch(`${server.urls.http}/metrics`)).text();
    assert.match(metrics, /buddylink_limited_total\{limit="connections-per-source"\} 30/);
    await assertServed(server, '1');
    // The same /64 counts as one source for IPv6; here: a second IPv4 source has its own ten.
    const other = await tryOpen(server.urls.ws, '127.0.0.3');
    assert.ok(other, 'another source is not affected');
    other.close();
    for (const s of open) s.terminate();
  });
});

test('a connection that does not log on in time is closed; a logged-on one stays', async () => {
  await withServer({ logonDeadlineSeconds: 0.4 }, async (server) => {
    const idle = await TestClient.connect(server.urls.ws, { localAddress: '127.0.0.2' });
    const user = await createUser(server, 'deadline1');
    const code = await Promise.race([idle.closed, new Promise((r) => setTimeout(() => r('open'), 3000))]);
    assert.equal(code, 1008);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(Object.keys(await user.client.ok('ping')), ['now']);
    await user.client.close();
  });
});

function slowUpgrade(
  port: number,
  localAddress: string,
): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    const started = performance.now();
    const closed = new Promise<number>((done) =>
      socket.once('close', () => done(performance.now() - started)),
    );
    socket.once('connect', () => {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n'); // and never the rest of the headers
      resolve({ socket, closed });
    });
    socket.once('error', () => {});
    socket.once('close', () => reject(new Error('refused before connect')));
  });
}

test('slow upgrades are bounded in number and cut at the upgrade deadline', async () => {
  await withServer({ maxPendingUpgrades: 5, upgradeTimeoutSeconds: 0.5 }, async (server) => {
    const slow = await Promise.all(
      Array.from({ length: 12 }, (_, i) => slowUpgrade(server.ws.port, `127.0.1.${i + 1}`)),
    );
    const lifetimes = await Promise.all(slow.map((s) => s.closed));
    const cutAtOnce = lifetimes.filter((ms) => ms < 400).length;
    assert.ok(cutAtOnce >= 7, `beyond five pending, cut at once (${cutAtOnce} of 12)`);
    assert.ok(
      lifetimes.every((ms) => ms < 3000),
      `every slow upgrade ends by the deadline: ${lifetimes.map(Math.round)}`,
    );
    await assertServed(server, '3');
  });
});
