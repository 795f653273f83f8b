import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  type Decision,
  planItems,
  readHello,
  receiveTransfer,
  StreamReader,
  safeRelativePath,
  sendTransfer,
  TransferCancelledError,
  TransferDeclinedError,
  TransferError,
  writeFrame,
} from '../../../src/client/index.js';
import { randomPayload, tempDir } from '../helpers.js';
import { trackedPair } from '../socket-pair.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const yes = async (): Promise<Decision> => ({ accept: true });

async function receiveOn(
  socket: Socket,
  dir: string,
  extra: Partial<Parameters<typeof receiveTransfer>[4]> = {},
) {
  const reader = new StreamReader(socket);
  const hello = await readHello(reader);
  if (hello.kind !== 'offer') throw new Error('expected an offer');
  return receiveTransfer(socket, reader, hello, 'alice', { dir, decide: yes, ...extra });
}

test("a peer's path stays inside the receive directory and fits a filesystem's 255 bytes", () => {
  assert.equal(safeRelativePath('album/sub/b.txt'), 'album/sub/b.txt');
  assert.equal(safeRelativePath('../../etc/passwd'), 'etc/passwd');
  assert.equal(safeRelativePath('..\\..\\windows\\win.ini'), 'windows/win.ini');
  assert.equal(safeRelativePath('/'), 'received-file');
  assert.equal(safeRelativePath('a\u0000b\nc.txt'), 'abc.txt');
  const long = safeRelativePath(`${'あ'.repeat(100)}.bin`);
  assert.ok(Buffer.byteLength(long) <= 240, `${Buffer.byteLength(long)} bytes`);
  assert.ok(long.endsWith('.bin'));
});

test('a folder and a file arrive with their structure, a taken name is renamed and the sender told', async () => {
  const src = await tempDir();
  const out = await tempDir();
  await mkdir(join(src, 'album', 'sub'), { recursive: true });
  const a = randomPayload(3 * 1024 * 1024 + 5);
  const b = Buffer.from('bee\n');
  await writeFile(join(src, 'album', 'a.bin'), a);
  await writeFile(join(src, 'album', 'sub', 'b.txt'), b);
  await writeFile(join(src, 'x.txt'), 'new');
  await writeFile(join(out, 'x.txt'), 'old');
  const items = await planItems([join(src, 'album'), join(src, 'x.txt')]);
  assert.deepEqual(
    items.map((i) => i.name),
    ['album/a.bin', 'album/sub/b.txt', 'x.txt'],
  );
  const [s, r] = await trackedPair();
  const [sent, got] = await Promise.all([sendTransfer(s, 'bob', { items }), receiveOn(r, out)]);
  assert.deepEqual(
    got.files.map((f) => f.file),
    ['album/a.bin', 'album/sub/b.txt', 'x (1).txt'],
  );
  assert.deepEqual(
    sent.files.map((f) => f.savedAs),
    ['album/a.bin', 'album/sub/b.txt', 'x (1).txt'],
  );
  assert.equal(sent.files[0]?.sha256, sha(a));
  assert.ok((await readFile(join(out, 'album', 'a.bin'))).equals(a));
  assert.ok((await readFile(join(out, 'album', 'sub', 'b.txt'))).equals(b));
  assert.equal(await readFile(join(out, 'x.txt'), 'utf8'), 'old');
  assert.deepEqual((await readdir(out)).sort(), ['album', 'x (1).txt', 'x.txt']);
});

test('a symbolic link planted in the receive directory cannot carry a file out of it', async () => {
  const out = await tempDir();
  const outside = await tempDir();
  await symlink(outside, join(out, 'album'));
  const src = await tempDir();
  await mkdir(join(src, 'album'));
  await writeFile(join(src, 'album', 'evil.txt'), 'x');
  const [s, r] = await trackedPair();
  const sending = sendTransfer(s, 'bob', { items: await planItems([join(src, 'album')]) }).catch(
    (e: unknown) => e,
  );
  const receiving = receiveOn(r, out).catch((e: unknown) => e);
  assert.ok((await receiving) instanceof TransferError);
  const error = await sending;
  assert.ok(error instanceof TransferError, String(error));
  assert.match(error.message, /could not save album\/evil\.txt/);
  assert.deepEqual(await readdir(outside), []);
});

test('a declined offer is a TransferDeclinedError for the sender, and nothing is written', async () => {
  const out = await tempDir();
  const [s, r] = await trackedPair();
  const [error] = await Promise.all([
    sendTransfer(s, 'bob', { items: [], text: 'hi' }).catch((e: unknown) => e),
    receiveOn(r, out, { decide: async () => ({ accept: false, code: 'DECLINED', reason: 'no thanks' }) }),
  ]);
  assert.ok(error instanceof TransferDeclinedError);
  assert.equal(error.code, 'DECLINED');
  assert.match(error.message, /bob declined: no thanks/);
  assert.deepEqual(await readdir(out), []);
});

test('an interrupted file resumes from the verified part, and the whole-file hash still checks', async () => {
  const src = await tempDir();
  const out = await tempDir();
  const body = randomPayload(6 * 1024 * 1024 + 11);
  await writeFile(join(src, 'big.bin'), body);
  const items = await planItems([join(src, 'big.bin')]);
  // First run: the sender stops after ~2 MiB.
  const [s1, r1] = await trackedPair();
  const stop = new AbortController();
  const first = await Promise.all([
    sendTransfer(
      s1,
      'bob',
      { items },
      {
        signal: stop.signal,
        onProgress: (p) => {
          if (p.bytes >= 2 * 1024 * 1024) stop.abort();
        },
      },
    ).catch((e: unknown) => e),
    receiveOn(r1, out).catch((e: unknown) => e),
  ]);
  assert.ok(first[0] instanceof TransferCancelledError, String(first[0]));
  assert.ok(first[1] instanceof TransferCancelledError, String(first[1]));
  assert.equal(first[0].code, 'CANCELLED');
  assert.equal(first[1].code, 'PEER_CANCELLED');
  const parts = (await readdir(out)).filter((n) => n.endsWith('.part'));
  assert.equal(parts.length, 1);
  // Second run: same file, same sender: continues where the part ends.
  const [s2, r2] = await trackedPair();
  const [sent, got] = await Promise.all([sendTransfer(s2, 'bob', { items }), receiveOn(r2, out)]);
  const resumed = got.files[0]?.resumedFrom ?? 0;
  assert.ok(resumed >= 1024 * 1024 && resumed < body.length, `resumed from ${resumed}`);
  assert.equal(sent.files[0]?.resumedFrom, resumed);
  assert.equal(got.files[0]?.sha256, sha(body));
  assert.ok((await readFile(join(out, 'big.bin'))).equals(body));
  assert.deepEqual(await readdir(out), ['big.bin']);
});

test('a part whose bytes differ from the file is not trusted: the file is sent whole', async () => {
  const src = await tempDir();
  const out = await tempDir();
  const body = randomPayload(2 * 1024 * 1024);
  await writeFile(join(src, 'f.bin'), body);
  const items = await planItems([join(src, 'f.bin')]);
  const { partPath } = await import('../../../src/client/transfer/parts.js');
  await writeFile(partPath(out, 'alice', 'f.bin', body.length), randomPayload(1000));
  const [s, r] = await trackedPair();
  const [sent, got] = await Promise.all([sendTransfer(s, 'bob', { items }), receiveOn(r, out)]);
  assert.equal(sent.files[0]?.resumedFrom, 0);
  assert.equal(got.files[0]?.sha256, sha(body));
  assert.ok((await readFile(join(out, 'f.bin'))).equals(body));
});

test('a body whose sha256 does not match is refused and leaves nothing behind', async () => {
  const out = await tempDir();
  const [s, r] = await trackedPair();
  const receiving = receiveOn(r, out).catch((e: unknown) => e);
  const sender = new StreamReader(s);
  await writeFrame(s, { kind: 'offer', v: 1, files: [{ name: 'tampered.bin', bytes: 4 }] });
  const { readFrame } = await import('../../../src/client/index.js');
  await readFrame(sender);
  await writeFrame(s, { kind: 'file', index: 0, offset: 0 });
  const head = Buffer.alloc(4);
  head.writeUInt32BE(4);
  s.write(Buffer.concat([head, Buffer.from('abcd'), Buffer.alloc(4), Buffer.alloc(32, 0xee)]));
  const error = await receiving;
  assert.ok(error instanceof TransferError);
  assert.match(String(error.message), /sha256/);
  assert.deepEqual(await readdir(out), []);
  s.destroy();
});

test('a file the receiver cannot write is stopped with the reason, told to the sender', async () => {
  const src = await tempDir();
  const out = await tempDir();
  await writeFile(join(src, 'f.bin'), randomPayload(5000));
  const { partPath } = await import('../../../src/client/transfer/parts.js');
  await mkdir(partPath(out, 'alice', 'f.bin', 5000));
  const [s, r] = await trackedPair();
  const [sent, got] = await Promise.all([
    sendTransfer(s, 'bob', { items: await planItems([join(src, 'f.bin')]) }).catch((e: unknown) => e),
    receiveOn(r, out).catch((e: unknown) => e),
  ]);
  assert.ok(got instanceof TransferError);
  assert.match(got.message, /could not write f\.bin: EISDIR/);
  assert.ok(sent instanceof TransferCancelledError, String(sent));
  assert.match(sent.message, /bob stopped the transfer \(could not write f\.bin: EISDIR\)/);
});
