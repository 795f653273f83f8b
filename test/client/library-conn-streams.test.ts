import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MuxStream, PathName, PeerConnection } from '../../src/client/index.js';
import { buddyPair, closeAll, startTestServer } from './helpers.js';

async function readAll(stream: MuxStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Issue 15: streams and messages on the connection itself, no wrapper in the app's code. */
for (const path of ['lan', 'relay'] as PathName[]) {
  test(`over ${path}: conn.openStream() and 'stream', conn.send() and 'message', conn.request() and handle()`, async () => {
    const server = await startTestServer();
    const [alice, bob] = await buddyPair(server);
    try {
      const incoming = new Promise<PeerConnection>((resolve) => bob.once('connection', resolve));
      const conn = await alice.connect('bob', { path });
      const theirs = await incoming;
      const messages: unknown[] = [];
      theirs.on('message', (value: unknown) => messages.push(value));
      theirs.handle((value) => ({ doubled: (value as { n: number }).n * 2 }));
      theirs.on('stream', async (stream: MuxStream) => {
        const got = await readAll(stream);
        stream.end(Buffer.concat([got, got])); // echoes twice, on the same stream
      });
      const streams = [conn.openStream(), conn.openStream()];
      streams[0]?.end(Buffer.alloc(100_000, 1));
      streams[1]?.end(Buffer.alloc(50_000, 2));
      conn.send({ hello: 'bob' });
      const [first, second, reply] = await Promise.all([
        readAll(streams[0] as MuxStream),
        readAll(streams[1] as MuxStream),
        conn.request({ n: 21 }),
      ]);
      assert.equal(first.length, 200_000);
      assert.ok(first.every((b) => b === 1));
      assert.equal(second.length, 100_000);
      assert.deepEqual(reply, { doubled: 42 });
      assert.deepEqual(messages, [{ hello: 'bob' }]);
      assert.equal(conn.mux(), conn.mux(), 'one mux per connection');
    } finally {
      await closeAll(alice, bob, server);
    }
  });
}

test("without a 'stream' listener the buddy's stream is refused, as on a bare mux", async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  try {
    const incoming = new Promise<PeerConnection>((resolve) => bob.once('connection', resolve));
    const conn = await alice.connect('bob', { path: 'lan' });
    const theirs = await incoming;
    theirs.handle(() => 'here'); // a mux on bob's side, with no 'stream' listener
    assert.equal(await conn.request('are you there?'), 'here');
    const stream = conn.openStream();
    stream.write(Buffer.from('x'));
    const closed = await new Promise<string | undefined>((resolve) =>
      stream.once('close', () => resolve(stream.closeCode)),
    );
    assert.equal(closed, 'STREAM_REFUSED');
  } finally {
    await closeAll(alice, bob, server);
  }
});
