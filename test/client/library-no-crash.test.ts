import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { Client, type LogonOptions, type PathName, type PeerConnection } from '../../src/client/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { buddyPair, closeAll, startTestServer } from './helpers.js';

/**
 * Issue 15 point 1: nothing a peer or the network does crashes the host. Two clients in this
 * process: whatever one does to the other (close at every stage of a connect, on every path; reset
 * or end mid-transfer), the other sees typed events or rejections, and the process sees no
 * uncaught exception or unhandled rejection.
 */
let crashes: unknown[] = [];
const onCrash = (error: unknown) => {
  crashes.push(error);
};
before(() => {
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
});
after(() => {
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A UDP port that swallows everything: a STUN server that never answers. */
async function deadStun(): Promise<{ url: string; close: () => void }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { url: `udp://127.0.0.1:${socket.address().port}`, close: () => socket.close() };
}

describe('a peer cannot crash the host', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let homes: { alice: string; bob: string };
  let stun: { url: string; close: () => void };
  const extra = (): Partial<LogonOptions> => ({
    stun: stun.url,
    localAddresses: [{ host: '127.0.0.1', port: 0 }],
    timeouts: { stunTimeoutMs: 300, lanTimeoutMs: 1500, internetTimeoutMs: 1500, relayTimeoutMs: 2000 },
    liveness: { peerIdleTimeoutMs: 3000, peerKeepAliveMs: 500 },
  });

  before(async () => {
    server = await startTestServer();
    stun = await deadStun();
    const [alice, bob] = await buddyPair(server, ['alice', 'bob'], extra());
    homes = { alice: alice.homeDir, bob: bob.homeDir };
    await closeAll(alice, bob);
  });
  after(async () => {
    stun.close();
    await server.close();
  });

  /** Both logged on again; `liveStun` gives them the server's STUN, so the internet try gets to punching. */
  const pair = async (liveStun = false): Promise<[Client, Client]> => {
    const logon = (user: 'alice' | 'bob') =>
      Client.logon({
        server: server.urls.ws,
        user,
        home: homes[user],
        listen: true,
        ...extra(),
        ...(liveStun ? { stun: server.urls.stun } : {}),
      });
    return Promise.all([logon('alice'), logon('bob')]);
  };

  const cases: [PathName | 'auto', boolean][] = [
    ['lan', false],
    ['internet', false], // STUN unreachable: the crash
    ['internet', true], // STUN answers: offer, punching and handshake are reached
    ['relay', false],
    ['auto', false],
  ];
  for (const [path, liveStun] of cases) {
    for (const who of ['initiator', 'answerer'] as const) {
      const stunNote = liveStun ? ' (STUN answering)' : '';
      it(`${who} closing at every stage of a ${path} connect${stunNote}: typed rejections, no crash`, async () => {
        crashes = [];
        for (const delayMs of [0, 30, 150]) {
          const [alice, bob] = await pair(liveStun);
          try {
            bob.on('connection', (c) => c.resume());
            const connecting = alice.connect('bob', { path });
            const outcome = connecting.then(
              (c) => ({ ok: true as const, c }),
              (error: unknown) => ({ ok: false as const, error }),
            );
            await sleep(delayMs);
            await (who === 'initiator' ? alice : bob).close();
            const result = await outcome;
            if (result.ok) result.c.destroy();
            else {
              const code = (result.error as { code?: unknown }).code;
              assert.equal(typeof code, 'string', `a typed rejection (${String(result.error)})`);
              if (who === 'initiator') assert.equal(code, 'ABORTED');
            }
          } finally {
            await closeAll(alice, bob);
          }
        }
        await sleep(200); // late timers and socket errors of the losers land here
        assert.deepEqual(crashes, []);
      });
    }
  }

  it('a peer resetting or ending mid-transfer and mid-half-close: typed close, no crash', async () => {
    crashes = [];
    for (const how of ['destroy', 'end', 'close-client'] as const) {
      for (const path of ['lan', 'relay'] as PathName[]) {
        const [alice, bob] = await pair();
        try {
          const incoming = new Promise<PeerConnection>((resolve) => bob.once('connection', resolve));
          const conn = await alice.connect('bob', { path });
          const theirs = await incoming;
          conn.write(Buffer.alloc(256 * 1024));
          if (how === 'end') theirs.end(); // half-close: alice still sends
          const closed = new Promise<void>((resolve) => conn.once('close', () => resolve()));
          conn.resume();
          await sleep(30);
          if (how === 'destroy') theirs.destroy();
          else if (how === 'close-client') await bob.close();
          else {
            conn.end();
            theirs.resume();
          }
          await closed;
        } finally {
          await closeAll(alice, bob);
        }
      }
    }
    await sleep(200);
    assert.deepEqual(crashes, []);
  });

  it('after close() no timer, socket or handle of the library is left', async () => {
    const baseline = resources();
    const [alice, bob] = await pair();
    bob.on('connection', (c) => c.pipe(c));
    const conn = await alice.connect('bob');
    conn.end(Buffer.alloc(100_000));
    for await (const _ of conn) {
      // drain the echo
    }
    const pending = alice.connect('bob', { path: 'relay' }).catch((e: { code: string }) => e.code);
    await alice.close();
    assert.equal(await pending, 'ABORTED');
    await assert.rejects(alice.connect('bob'), { code: 'ABORTED' });
    await bob.close();
    // Give closing sockets their last tick, then nothing beyond the baseline may be left.
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && resources() !== baseline) await sleep(50);
    assert.equal(resources(), baseline);
  });
});

/** The active handles and ref'd timers, as a sorted list, without the test's own sleep timer. */
function resources(): string {
  return process
    .getActiveResourcesInfo()
    .filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap')
    .sort()
    .join(',');
}
