import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ClientError, type PathAttempt } from '../../src/client/index.js';
import { decodePunchPacket } from '../../src/client/punch-packet.js';
import { createUser } from '../server/helpers.js';
import { closeAll, exchange, newAccount, nextConnection, startTestServer } from './helpers.js';

/** A bound UDP socket that never answers; it records what it is sent. */
async function silentSocket(): Promise<{ socket: Socket; port: number; received: Buffer[] }> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (packet) => received.push(packet));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, received };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('connect returns within 100 ms of the LAN proof while the internet try still waits for a silent STUN server, and reports it superseded', async () => {
  const server = await startTestServer();
  const stun = await silentSocket();
  const alice = await newAccount(server, 'alice', { stun: `udp://127.0.0.1:${stun.port}` });
  const bob = await newAccount(server, 'bob');
  try {
    await alice.requestBuddy('bob');
    await bob.acceptBuddy('alice');
    const incoming = nextConnection(bob);
    let lanProvedAt: number | undefined;
    const connection = await alice.connect('bob', {
      onAttempt: (a: PathAttempt) => {
        if (a.path === 'lan' && a.ok) lanProvedAt = performance.now();
      },
    });
    const returnedAt = performance.now();
    assert.equal(connection.path, 'lan');
    assert.ok(stun.received.length > 0, 'the internet try did ask the silent STUN server');
    assert.ok(lanProvedAt !== undefined);
    const gap = returnedAt - lanProvedAt;
    assert.ok(gap < 100, `connect returned ${gap.toFixed(0)} ms after the LAN was proven`);
    // Reported when it was cancelled, so the report is complete when connect returns.
    assert.deepEqual(
      connection.attempts.map((a) => [a.path, a.ok, a.reason]),
      [
        ['lan', true, undefined],
        ['internet', false, 'superseded by lan'],
      ],
    );
    connection.end('over the LAN');
    assert.equal((await exchange(await incoming, Buffer.alloc(0))).toString(), 'over the LAN');
  } finally {
    stun.socket.close();
    await closeAll(alice, bob, server);
  }
});

test('the answering side stops punching when the initiator cancels the losing internet try', async () => {
  const server = await startTestServer();
  // Offered by alice as one more global address: bob punches it, it never acks, so only a stop ends it.
  const trap = await silentSocket();
  const alice = await newAccount(server, 'alice', {
    extraGlobalAddresses: [{ host: '127.0.0.1', port: trap.port }],
  });
  const bob = await newAccount(server, 'bob');
  try {
    await alice.requestBuddy('bob');
    await bob.acceptBuddy('alice');
    // Both global addresses are known before the connect, so the global offer and bob's punching
    // start at once, before the LAN is proven.
    await Promise.all([alice.globalAddress(), bob.globalAddress()]);
    const probesFromBob = () =>
      trap.received.filter((p) => {
        const punch = decodePunchPacket(p);
        return punch?.kind === 'probe' && punch.scope === 'global' && punch.role === 'answerer';
      }).length;
    const incoming = nextConnection(bob);
    const connection = await alice.connect('bob');
    assert.equal(connection.path, 'lan');
    assert.match(connection.attempts.find((a) => a.path === 'internet')?.reason ?? '', /superseded by lan/);
    const answered = await incoming;
    // The cancel travels through the server in one hop; after that, silence.
    await sleep(250);
    const before = probesFromBob();
    assert.ok(before > 0, 'bob was punching the internet path');
    await sleep(600);
    const after = probesFromBob();
    assert.equal(
      after - before,
      0,
      `bob sent ${after - before} probes after alice cancelled (every 40 ms before)`,
    );
    connection.destroy();
    answered.destroy();
  } finally {
    trap.socket.close();
    await closeAll(alice, bob, server);
  }
});

test("closing the client stops its connect in flight at once, with every try's timers", async () => {
  const server = await startTestServer();
  const alice = await newAccount(server, 'alice', { timeouts: { answerTimeoutMs: 10_000 } });
  // A buddy that is online and accepted but never answers an offer: alice's try waits its (long) timeout.
  const bob = await createUser(server, 'bob', { listen: true });
  try {
    await alice.requestBuddy('bob');
    await bob.client.ok('buddy.accept', { user: 'alice' });
    const connecting = alice.connect('bob', { path: 'lan' }).catch((e: unknown) => e);
    await bob.client.waitForEvent((e) => e.event === 'signal');
    // Past the offer's own reply: nothing of the control channel is pending when it closes.
    await sleep(200);
    const closedAt = performance.now();
    await alice.close();
    const error = await connecting;
    const stoppedAfter = performance.now() - closedAt;
    // Issue 15: the app's own close() is a cancellation (ABORTED), not a lost server.
    assert.ok(error instanceof ClientError && error.code === 'ABORTED', `rejected with ${String(error)}`);
    assert.ok(stoppedAfter < 200, `the connect stopped ${stoppedAfter.toFixed(0)} ms after close()`);
  } finally {
    await bob.client.close();
    await closeAll(alice, server);
  }
});

test('a loser whose STUN answer comes after the LAN won sends no offer, and nothing keeps the process alive after close', async () => {
  const fixture = fileURLToPath(new URL('./fixtures/late-stun-loser.js', import.meta.url));
  const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let closedAt: number | undefined;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      if (line.event === 'closed') closedAt = performance.now();
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const exitedAfter = performance.now() - (closedAt ?? Number.NaN);
  assert.equal(code, 0, stderr);
  const connected = lines.find((l) => l.event === 'connected');
  const signals = lines.find((l) => l.event === 'signals');
  assert.equal(connected?.path, 'lan');
  assert.deepEqual(
    ((connected?.attempts ?? []) as PathAttempt[]).map((a) => [a.path, a.reason]),
    [
      ['lan', undefined],
      ['internet', 'superseded by lan'],
    ],
  );
  assert.equal(signals?.stunAsked, true);
  assert.equal(signals?.global, 0, 'no global offer (nor its cancel) went to the buddy');
  assert.ok(exitedAfter < 500, `the process lived ${exitedAfter.toFixed(0)} ms after close`);
});

test("an initiator's abort for a session the buddy answers stops the buddy's punching for that scope at once", async () => {
  const server = await startTestServer();
  // The initiator is a bare control connection: it offers one global address, a socket that never
  // answers, so the buddy's probes to it go on until something stops them.
  const trap = await silentSocket();
  const bob = await newAccount(server, 'bob');
  const alice = await createUser(server, 'alice');
  try {
    await alice.client.ok('buddy.request', { user: 'bob' });
    await bob.acceptBuddy('alice');
    await bob.globalAddress();
    const session = 'ab'.repeat(16);
    const offer = { session, scope: 'global', addresses: [{ host: '127.0.0.1', port: trap.port }] };
    await alice.client.ok('signal', { to: 'bob', body: { ...offer, purpose: 'offer', streamId: 7 } });
    await alice.client.waitForEvent((e) => e.event === 'signal');
    await sleep(200);
    const probes = () => trap.received.filter((p) => decodePunchPacket(p)?.kind === 'probe').length;
    assert.ok(probes() > 0, 'bob punches the offered address');
    await alice.client.ok('signal', {
      to: 'bob',
      body: { ...offer, addresses: [], purpose: 'abort', reason: 'superseded by lan' },
    });
    await sleep(150);
    const before = probes();
    await sleep(500);
    assert.equal(probes() - before, 0, 'no probe after the abort (one every 40 ms before it)');
  } finally {
    trap.socket.close();
    await alice.client.close();
    await closeAll(bob, server);
  }
});
