import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { randomPayload, startTestServer, tempDir } from '../client/helpers.js';
import { cliBuddies, startReceiver } from './cli-helpers.js';
import { CLI, collect, parseLines, runCli, startCli } from './run-cli.js';

/** Issue 13's features through the real CLI: folders, pipes, text, consent, the JSON contract. */
let server: RunningServer;
let alice: Record<string, string>;
let bob: Record<string, string>;
let src: string;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

before(async () => {
  server = await startTestServer();
  ({ alice, bob } = await cliBuddies(server));
  src = await tempDir('buddylink-src-');
  await mkdir(join(src, 'album', 'sub'), { recursive: true });
  await writeFile(join(src, 'album', 'a.bin'), randomPayload(1024 * 1024 + 1));
  await writeFile(join(src, 'album', 'sub', 'b.txt'), 'bee\n');
  await writeFile(join(src, 'notes.txt'), 'notes\n');
});
after(async () => {
  await server.close();
});

test('folders and files in one send: structure kept, a received event per file, one transfer summary, --once ends after it', async () => {
  const out = await tempDir();
  const receiver = await startReceiver(bob, ['--out', out, '--once']);
  const sent = await runCli(
    ['send', 'bob', join(src, 'album'), join(src, 'notes.txt'), '--json'],
    alice,
    30_000,
  );
  assert.equal(sent.code, 0, sent.stderr);
  const got = await receiver.done;
  assert.equal(got.code, 0, got.stderr);
  const names = ['album/a.bin', 'album/sub/b.txt', 'notes.txt'];
  assert.deepEqual(
    got.events.filter((e) => e.event === 'received').map((e) => e.file),
    names,
  );
  assert.deepEqual(
    sent.events.filter((e) => e.event === 'sent').map((e) => e.file),
    names,
  );
  for (const [events, who] of [
    [sent.events, 'sender'],
    [got.events, 'receiver'],
  ] as const) {
    const summary = events.filter((e) => e.event === 'transfer');
    assert.equal(summary.length, 1, who);
    assert.equal(summary[0]?.files, 3);
    assert.equal(summary[0]?.bytes, 1024 * 1024 + 1 + 4 + 6);
    assert.equal(summary[0]?.path, 'lan');
    assert.equal(typeof summary[0]?.seconds, 'number');
  }
  assert.equal(await readFile(join(out, 'album', 'sub', 'b.txt'), 'utf8'), 'bee\n');
  assert.deepEqual((await readdir(out)).sort(), ['album', 'notes.txt']);
});

test('pipes: send USER - --name reads standard input; receive --stdout writes the file to standard output', async () => {
  const out = await tempDir();
  const receiver = await startReceiver(bob, ['--out', out, '--once']);
  const piped = randomPayload(300_000);
  const sender = startCli(['send', 'bob', '-', '--name', 'dump.bin', '--json'], alice, { stdin: true });
  const sending = collect(sender, performance.now(), 30_000);
  sender.stdin?.end(piped);
  assert.equal((await sending).code, 0);
  assert.equal((await receiver.done).code, 0);
  assert.ok((await readFile(join(out, 'dump.bin'))).equals(piped));

  const child = startCli(['receive', '--stdout', '--json'], bob);
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => chunks.push(d));
  let stderr = '';
  const ready = new Promise<void>((resolve) =>
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('"event":"ready"')) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await ready;
  const body = await readFile(join(src, 'album', 'a.bin'));
  const sent = await runCli(['send', 'bob', join(src, 'album', 'a.bin'), '--json'], alice, 30_000);
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(await exited, 0, stderr);
  assert.equal(sha(Buffer.concat(chunks)), sha(body), 'stdout carries the file and nothing else');
  const events = parseLines(stderr);
  assert.equal(events.find((e) => e.event === 'received')?.sha256, sha(body));
});

test('send --text delivers a one-line message', async () => {
  const receiver = await startReceiver(bob, ['--out', await tempDir(), '--once']);
  const sent = await runCli(['send', 'bob', '--text', 'the door code is 4711', '--json'], alice, 30_000);
  assert.equal(sent.code, 0, sent.stderr);
  const got = await receiver.done;
  assert.deepEqual(
    got.events.filter((e) => e.event === 'message'),
    [{ event: 'message', from: 'alice', text: 'the door code is 4711' }],
  );
  assert.equal(
    (await runCli(['send', 'bob', 'x', '--text', 'y'], alice)).code,
    2,
    'files and --text together',
  );
});

test('consent unattended: --max-size declines (sender exit 4, told why); a taken name is renamed and the sender told', async () => {
  const out = await tempDir();
  const receiver = await startReceiver(bob, ['--out', out, '--max-size', '1K']);
  try {
    const big = await runCli(['send', 'bob', join(src, 'album'), '--json'], alice, 30_000);
    assert.equal(big.code, 4, big.stderr);
    assert.match(big.stderr, /bob declined: 1\.0 MiB is over the receiver's limit of 1\.0 KiB/);
    assert.equal(big.events.at(-1)?.code, 'DECLINED');
    // Standard input has no size up front: it is stopped when it grows past the limit.
    const piped = startCli(['send', 'bob', '-', '--name', 'big.bin', '--json'], alice, { stdin: true });
    const piping = collect(piped, performance.now(), 30_000);
    piped.stdin?.end(randomPayload(64 * 1024));
    const over = await piping;
    assert.equal(over.code, 1, over.stderr);
    assert.match(over.stderr, /bob stopped the transfer \(more than the receiver's limit of 1024 bytes\)/);
    for (const expected of ['notes.txt', 'notes (1).txt']) {
      const sent = await runCli(['send', 'bob', join(src, 'notes.txt')], alice, 30_000);
      assert.equal(sent.code, 0, sent.stderr);
      if (expected !== 'notes.txt') assert.match(sent.stdout, /saved as notes \(1\)\.txt/);
    }
  } finally {
    receiver.child.kill('SIGTERM');
    await receiver.done;
  }
  assert.deepEqual(
    (await readdir(out)).sort(),
    ['notes (1).txt', 'notes.txt'],
    'no part of the piped file is left',
  );
});

test('consent on a terminal: the offer is shown and asked about; no declines (exit 4), yes receives', async () => {
  const out = await tempDir();
  // `script` gives the receiver a real terminal, as a person's shell would.
  const command = `${process.execPath} ${CLI} receive --out ${out}`;
  const term = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', ...bob },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  const waitFor = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${text}" on the terminal: ${screen}`)), 20_000);
      const check = () => {
        if (!screen.includes(text)) return;
        clearTimeout(timer);
        term.stdout?.off('data', onData);
        resolve();
      };
      const onData = (d: Buffer) => {
        screen += d.toString();
        check();
      };
      term.stdout?.on('data', onData);
      check();
    });
  try {
    await waitFor('is waiting for files');
    const declined = runCli(['send', 'bob', join(src, 'notes.txt')], alice, 30_000);
    await waitFor('alice offers 1 file (notes.txt; 6 B). Accept? [y/N]');
    term.stdin?.write('n\r');
    const no = await declined;
    assert.equal(no.code, 4, no.stderr);
    assert.match(no.stderr, /bob declined: the receiver said no/);
    screen = '';
    const accepted = runCli(['send', 'bob', join(src, 'notes.txt')], alice, 30_000);
    await waitFor('Accept? [y/N]');
    term.stdin?.write('y\r');
    const yes = await accepted;
    assert.equal(yes.code, 0, yes.stderr);
    assert.deepEqual(await readdir(out), ['notes.txt']);
  } finally {
    term.kill('SIGTERM');
  }
});

test('9: on a terminal the bar is redrawn over a cleared line and cleared before the next line (no stray characters)', async () => {
  const receiver = await startReceiver(bob, ['--out', await tempDir(), '--once']);
  const command = `${process.execPath} ${CLI} send bob ${join(src, 'album', 'a.bin')}`;
  const term = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', ...alice },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const done = collect(term, performance.now(), 30_000);
  const screen = (await done).stdout;
  assert.equal((await receiver.done).code, 0);
  const CLEAR = '\r\u001b[2K';
  assert.ok(screen.includes(`${CLEAR}[#`), `a bar was drawn: ${JSON.stringify(screen)}`);
  // Every carriage return either ends a line or starts a cleared one: nothing of a longer line is left.
  for (const after of screen.split('\r').slice(1))
    assert.ok(after.startsWith('\n') || after.startsWith('\u001b[2K'), JSON.stringify(after.slice(0, 20)));
  assert.ok(screen.includes(`${CLEAR}sent a.bin (1.0 MiB) to bob over lan`), JSON.stringify(screen));
});

test('consent on a terminal with --yes: no question, the transfer is accepted', async () => {
  const out = await tempDir();
  const command = `${process.execPath} ${CLI} receive --out ${out} --yes --once`;
  const term = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', ...bob },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const done = collect(term, performance.now(), 30_000);
  const ready = new Promise<void>((resolve) => {
    let screen = '';
    term.stdout?.on('data', (d: Buffer) => {
      screen += d.toString();
      if (screen.includes('is waiting for files')) resolve();
    });
  });
  await ready;
  const sent = await runCli(['send', 'bob', join(src, 'notes.txt')], alice, 30_000);
  assert.equal(sent.code, 0, sent.stderr);
  const screen = (await done).stdout;
  assert.doesNotMatch(screen, /Accept\?/);
  assert.match(screen, /received notes\.txt/);
  assert.deepEqual(await readdir(out), ['notes.txt']);
});
