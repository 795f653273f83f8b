import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  readHello,
  receiveFile,
  StreamReader,
  safeFileName,
  sendFile,
  TransferError,
  writeFrame,
} from '../../src/client/index.js';
import { buddyPair, closeAll, nextConnection, randomPayload, startTestServer, tempDir } from './helpers.js';

test("a peer's file name is reduced to one harmless name inside the output directory", () => {
  assert.equal(safeFileName('../../etc/passwd'), 'passwd');
  assert.equal(safeFileName('..\\..\\windows\\win.ini'), 'win.ini');
  assert.equal(safeFileName('..'), 'received-file');
  assert.equal(safeFileName('/'), 'received-file');
  assert.equal(safeFileName('a\u0000b\nc.txt'), 'abc.txt');
  assert.equal(safeFileName('report.pdf'), 'report.pdf');
});

test('a file arrives under its name after its sha256 checks, and a name with ../ stays inside DIR', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  const from = await tempDir();
  const outer = await tempDir();
  const out = join(outer, 'inbox');
  await (await import('node:fs/promises')).mkdir(out);
  const payload = randomPayload(3 * 1024 * 1024 + 17);
  await writeFile(join(from, 'data.bin'), payload);
  try {
    const incoming = nextConnection(bob);
    const connection = await alice.connect('bob');
    const answered = await incoming;
    const reader = new StreamReader(answered);
    const receiving = (async () => {
      const hello = await readHello(reader);
      assert.equal(hello.kind, 'file');
      if (hello.kind !== 'file') throw new Error('unreachable');
      return receiveFile(answered, reader, hello, out);
    })();
    const sent = await sendFile(connection, join(from, 'data.bin'), { name: '../../escape.bin' });
    const received = await receiving;
    assert.equal(received.file, 'escape.bin');
    assert.equal(received.sha256, createHash('sha256').update(payload).digest('hex'));
    assert.equal(sent.sha256, received.sha256);
    assert.deepEqual(await readdir(out), ['escape.bin']);
    assert.deepEqual((await readdir(outer)).sort(), ['inbox']);
    assert.ok((await readFile(join(out, 'escape.bin'))).equals(payload));
  } finally {
    await closeAll(alice, bob, server);
  }
});

test('a file whose sha256 does not match is refused and leaves nothing behind', async () => {
  const server = await startTestServer();
  const [alice, bob] = await buddyPair(server);
  const out = await tempDir();
  try {
    const incoming = nextConnection(bob);
    const connection = await alice.connect('bob');
    const answered = await incoming;
    const reader = new StreamReader(answered);
    const receiving = (async () => {
      const hello = await readHello(reader);
      if (hello.kind !== 'file') throw new Error('expected a file');
      return receiveFile(answered, reader, hello, out);
    })().catch((e: unknown) => e);
    const body = randomPayload(100_000);
    await writeFrame(connection, { kind: 'file', name: 'tampered.bin', bytes: body.length });
    connection.write(body);
    connection.write(Buffer.alloc(32, 0xee));
    const error = await receiving;
    assert.ok(error instanceof TransferError);
    assert.match(error.message, /sha256/);
    assert.deepEqual(await readdir(out), []);
    connection.destroy();
  } finally {
    await closeAll(alice, bob, server);
  }
});
