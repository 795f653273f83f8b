import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mux, type MuxStream, type PathName, type PeerConnection } from '../../src/client/index.js';
import { buddyPair, closeAll, startTestServer } from './helpers.js';

async function readAll(stream: MuxStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Issue 15 point 4, on real connections: the requester ends its side, the responder streams its
 * reply for several idle timeouts. The stream stays open, every byte arrives; several streams and
 * a request share the connection meanwhile.
 */
for (const path of ['lan', 'relay'] as PathName[]) {
  test(`over ${path}: a half-closed stream outlives the idle timeout while the other side sends`, async () => {
    const server = await startTestServer();
    const liveness = { peerIdleTimeoutMs: 600, peerKeepAliveMs: 150 };
    const [alice, bob] = await buddyPair(server, ['alice', 'bob'], { liveness });
    try {
      const incoming = new Promise<PeerConnection>((resolve) => bob.once('connection', resolve));
      const mux = new Mux(await alice.connect('bob', { path }));
      const theirs = new Mux(await incoming);
      theirs.handle((value) => value);
      theirs.on('stream', async (stream) => {
        const request = await readAll(stream);
        for (let i = 0; i < 20; i++) {
          stream.write(Buffer.alloc(10_000, request[0]));
          await new Promise((r) => setTimeout(r, 100));
        }
        stream.end();
      });
      const long = mux.openStream();
      long.end(Buffer.from([9]));
      const other = mux.openStream();
      other.end(Buffer.from([3]));
      const [reply, short, echoed] = await Promise.all([
        readAll(long),
        readAll(other),
        mux.request({ alive: true }),
      ]);
      assert.equal(reply.length, 200_000, '2 s of reply, over three idle timeouts');
      assert.ok(reply.every((b) => b === 9));
      assert.equal(short.length, 200_000);
      assert.deepEqual(echoed, { alive: true });
      assert.equal(mux.closeCode, undefined);
      await mux.close();
    } finally {
      await closeAll(alice, bob, server);
    }
  });
}
