import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { encodeFrame, FrameType } from '../../../src/client/mux/frames.js';
import { Mux, MuxError, type MuxOptions, type MuxStream } from '../../../src/client/mux/index.js';
import { socketPair } from '../socket-pair.js';

async function muxPair(options: MuxOptions = {}): Promise<[Mux, Mux]> {
  const [a, b] = await socketPair();
  return [new Mux(a, options), new Mux(b, options)];
}

/** Reads to the end without destroying the stream (a `for await` would, killing our side's writes). */
async function readAll(stream: MuxStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Waits for 'close' (events.once would reject on the 'error' that comes first). */
const closed = (stream: MuxStream) =>
  new Promise<void>((resolve) => (stream.closed ? resolve() : stream.once('close', () => resolve())));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let crashes = 0;
const onCrash = () => {
  crashes++;
};
before(() => {
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
});
after(() => {
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  assert.equal(crashes, 0, 'nothing escaped as an uncaught exception or unhandled rejection');
});

describe('mux streams', () => {
  it('carries several streams at once, both ways, each byte-exact, opened without a round trip', async () => {
    const [a, b] = await muxPair();
    const payloads = [randomBytes(1), randomBytes(300_000), randomBytes(1_500_000), randomBytes(70_000)];
    b.on('stream', async (stream) => {
      // Echo each stream reversed in role: read all, then answer with its hash.
      const got = await readAll(stream);
      stream.end(sha(got));
    });
    const replies = await Promise.all(
      payloads.map(async (payload) => {
        const stream = a.openStream();
        stream.end(payload); // written before the peer has even seen the open
        return (await readAll(stream)).toString();
      }),
    );
    assert.deepEqual(
      replies,
      payloads.map((p) => sha(p)),
    );
    const bClosed = once(b, 'close');
    await a.close();
    assert.equal(a.closeCode, 'LOCAL_CLOSE');
    await bClosed;
    assert.equal(b.closeCode, 'PEER_CLOSED');
  });

  it('a stream nobody reads stops its own sender at the window, and the others keep flowing', async () => {
    const windowBytes = 64 * 1024;
    const [a, b] = await muxPair({ windowBytes });
    const incoming: MuxStream[] = [];
    b.on('stream', (s) => incoming.push(s));
    const stalled = a.openStream();
    const flowing = a.openStream();
    stalled.write(randomBytes(4 * 1024 * 1024)); // far more than the window: must wait for credit
    const big = randomBytes(2 * 1024 * 1024);
    flowing.end(big);
    while (incoming.length < 2) await new Promise((r) => setTimeout(r, 5));
    const [stalledIn, flowingIn] = incoming as [MuxStream, MuxStream];
    stalledIn.pause();
    assert.equal(sha(await readAll(flowingIn)), sha(big));
    // The unread stream holds at most its window plus its reader's buffer on the receiving side.
    assert.ok(
      stalledIn.readableLength <= windowBytes + 64 * 1024,
      `unread side buffered ${stalledIn.readableLength} bytes`,
    );
    assert.ok(stalled.writableLength > 3 * 1024 * 1024, 'the sender still holds what it may not send yet');
    a.destroy();
    await once(b, 'close');
  });

  it('a half-closed stream stays open while the other side sends for longer than the idle timeout', async () => {
    const [a, b] = await muxPair({ idleTimeoutMs: 300 });
    b.on('stream', async (stream) => {
      const request = await readAll(stream); // the requester has ended its side
      for (let i = 0; i < 12; i++) {
        stream.write(Buffer.alloc(10_000, request[0]));
        await new Promise((r) => setTimeout(r, 100));
      }
      stream.end();
    });
    const stream = a.openStream();
    stream.end(Buffer.from([7]));
    const reply = await readAll(stream);
    assert.equal(reply.length, 120_000, '1.2 s of replies, four idle timeouts long');
    assert.ok(reply.every((byte) => byte === 7));
    assert.equal(a.closeCode, undefined);
    await a.close();
  });

  it('a stream the peer resets ends with STREAM_RESET; the connection stays', async () => {
    const [a, b] = await muxPair();
    b.on('stream', (stream) => stream.destroy());
    const stream = a.openStream();
    stream.write('hello');
    await closed(stream);
    assert.equal(stream.closeCode, 'STREAM_RESET');
    assert.equal(a.closed, false);
    b.handle(() => 'still here');
    assert.equal(await a.request('ping'), 'still here');
    await a.close();
  });

  it('a peer with no stream listener refuses streams with STREAM_REFUSED', async () => {
    const [a, b] = await muxPair();
    const stream = a.openStream();
    const errored = once(stream, 'error');
    const [error] = (await errored) as [MuxError];
    assert.ok(error instanceof MuxError);
    assert.equal(error.code, 'STREAM_REFUSED');
    b.destroy();
  });
});

describe('mux messages', () => {
  it('sends messages (JSON and bytes) and answers requests', async () => {
    const [a, b] = await muxPair();
    const got: unknown[] = [];
    b.on('message', (m) => got.push(m));
    b.handle(async (value) => {
      const { op, x } = value as { op: string; x: number };
      if (op === 'double') return { y: 2 * x };
      throw new Error(`unknown op ${op}`);
    });
    a.send({ hello: 'world' });
    a.send(Buffer.from([1, 2, 3]));
    assert.deepEqual(await a.request({ op: 'double', x: 21 }), { y: 42 });
    assert.deepEqual(got, [{ hello: 'world' }, Buffer.from([1, 2, 3])]);
    await assert.rejects(a.request({ op: 'nope', x: 1 }), {
      code: 'REQUEST_FAILED',
      message: 'unknown op nope',
    });
    await assert.rejects(b.request('x'), { code: 'NO_HANDLER' });
    await a.close();
  });

  it('refuses a message over the limit locally, and closes on a peer frame over it', async () => {
    const [a, b] = await muxPair({ maxMessageBytes: 1000 });
    assert.throws(() => a.send('x'.repeat(2000)), { code: 'MESSAGE_TOO_LARGE' });
    await assert.rejects(a.request(Buffer.alloc(5000)), { code: 'MESSAGE_TOO_LARGE' });
    // A peer that ignores the limit: a header announcing 10 MB.
    const raw = (a as unknown as { carrier: Socket }).carrier;
    raw.write(encodeFrame(FrameType.MESSAGE, true, 0, Buffer.alloc(0)).fill(0xff, 6, 10));
    const [{ code }] = (await once(b, 'close')) as [{ code: string }];
    assert.equal(code, 'FRAME_TOO_LARGE');
  });

  it('request timeouts and cancellation reject with TIMEOUT and ABORTED', async () => {
    const [a, b] = await muxPair();
    b.handle(() => new Promise(() => {})); // never answers
    await assert.rejects(a.request('slow', { timeoutMs: 100 }), { code: 'TIMEOUT' });
    const controller = new AbortController();
    const pending = a.request('slow', { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { code: 'ABORTED' });
    a.destroy();
    await once(b, 'close');
  });
});

describe('mux under a failing carrier', () => {
  it('garbage from the peer closes the mux with PROTOCOL_ERROR, never a throw', async () => {
    const [rawA, rawB] = await socketPair();
    const b = new Mux(rawB);
    rawA.on('error', () => {});
    rawA.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    const [{ code }] = (await once(b, 'close')) as [{ code: string }];
    assert.equal(code, 'PROTOCOL_ERROR');
    rawA.destroy();
  });

  it('a peer that resets or vanishes ends streams and requests with a typed code', async () => {
    const [a, b] = await muxPair();
    b.on('stream', () => {});
    b.handle(() => new Promise(() => {}));
    const stream = a.openStream();
    const request = a.request('never answered');
    stream.write('x');
    await new Promise((r) => setTimeout(r, 50));
    (b as unknown as { carrier: Socket }).carrier.resetAndDestroy();
    await assert.rejects(
      request,
      (error: MuxError) => error instanceof MuxError && error.code === 'PEER_RESET',
    );
    await closed(stream);
    assert.equal(stream.closeCode, 'PEER_RESET');
    assert.equal(a.closeCode, 'PEER_RESET');
  });

  it('a silent peer closes the mux with IDLE_TIMEOUT', async () => {
    const [rawA, rawB] = await socketPair();
    const a = new Mux(rawA, { idleTimeoutMs: 300 });
    rawB.resume(); // reads the pings, never answers
    const started = Date.now();
    const [{ code }] = (await once(a, 'close')) as [{ code: string }];
    assert.equal(code, 'IDLE_TIMEOUT');
    assert.ok(Date.now() - started >= 250);
    rawB.destroy();
  });
});
