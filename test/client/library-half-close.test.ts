import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PathName, PeerConnection } from '../../src/client/index.js';
import { buddyPair, closeAll, startTestServer } from './helpers.js';

/**
 * Issue 15 point 4 on a raw connection (no mux): the requester ends its side, the responder streams
 * 10 KB every 100 ms for longer than the idle timeout. Every byte arrives; nothing times out.
 */
for (const path of ['lan', 'relay'] as PathName[]) {
  test(`over ${path}: a raw connection's half-close keeps the long reply alive past the idle timeout`, async () => {
    const server = await startTestServer();
    const liveness = { peerIdleTimeoutMs: 600, peerKeepAliveMs: 150 };
    const [alice, bob] = await buddyPair(server, ['alice', 'bob'], { liveness });
    try {
      const incoming = new Promise<PeerConnection>((resolve) => bob.once('connection', resolve));
      const conn = await alice.connect('bob', { path });
      const theirs = await incoming;
      theirs.resume();
      theirs.once('end', async () => {
        for (let i = 0; i < 15; i++) {
          theirs.write(Buffer.alloc(10_000, 5));
          await new Promise((r) => setTimeout(r, 100));
        }
        theirs.end();
      });
      conn.end(Buffer.from([1]));
      let received = 0;
      const outcome = await new Promise<string>((resolve) => {
        conn.on('data', (chunk: Buffer) => {
          received += chunk.length;
        });
        conn.once('end', () => resolve('end'));
        conn.once('error', (error: Error) => resolve(`error ${error.message}`));
      });
      assert.equal(outcome, 'end');
      assert.equal(received, 150_000, '1.5 s of reply, over two idle timeouts');
    } finally {
      await closeAll(alice, bob, server);
    }
  });
}
