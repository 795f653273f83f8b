import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { StreamReader, TransferError } from '../../src/client/index.js';
import { trackedPair } from './socket-pair.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('the reader hands out exact byte counts across chunk boundaries, in order, then ends', async () => {
  const stream = new PassThrough();
  const reader = new StreamReader(stream);
  const sent = randomBytes(3 * 1024 * 1024 + 17);
  // Chunks of odd sizes, so reads straddle them.
  for (let at = 0, size = 1; at < sent.length; at += size, size = (size * 7 + 13) % 300_000)
    stream.write(sent.subarray(at, at + size));
  stream.end();
  const got: Buffer[] = [];
  let have = 0;
  for (let n = 1; have < sent.length; n = (n * 5 + 3) % 200_000) {
    const part = await reader.readExact(Math.min(n || 1, sent.length - have));
    got.push(part);
    have += part.length;
  }
  assert.equal(sha(Buffer.concat(got)), sha(sent));
  assert.equal((await reader.readSome(10)).length, 0, 'an empty read at the end of the stream');
});

test('a short stream is a typed error for an exact read, not a hang', async () => {
  const stream = new PassThrough();
  const reader = new StreamReader(stream);
  stream.end(Buffer.from('abc'));
  await assert.rejects(reader.readExact(4), TransferError);
});

test('an unread reader pauses its stream after a few MiB, so a fast sender is held back by TCP', async () => {
  const [a, b] = await trackedPair();
  const reader = new StreamReader(b);
  const sent = randomBytes(32 * 1024 * 1024);
  a.end(sent);
  // Nobody reads: the reader must stop taking bytes well before the 32 MiB are in memory here.
  const deadline = Date.now() + 10_000;
  while (!b.isPaused() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(b.isPaused(), 'the socket is paused while the reader holds its limit');
  assert.ok(b.bytesRead < 16 * 1024 * 1024, `read ${b.bytesRead} bytes off the socket while nobody read`);
  const got = await reader.readExact(sent.length);
  assert.equal(sha(got), sha(sent));
  assert.equal((await reader.readSome(1)).length, 0);
});
