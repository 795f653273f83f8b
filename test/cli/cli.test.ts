import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestServer, tempDir } from '../client/helpers.js';
import { cliBuddies, envFor } from './cli-helpers.js';
import { collect, runCli, startCli, waitForEvent } from './run-cli.js';

test('the CLI contract: accounts, buddies, whoami, judge, send and receive --once as JSON lines', async () => {
  const server = await startTestServer();
  try {
    const { alice, bob } = await cliBuddies(server);
    const list = await runCli(['buddy', 'list', '--json'], alice);
    assert.equal(list.code, 0, list.stderr);
    const buddies = list.events[0]?.buddies as { user: string; state: string }[];
    assert.deepEqual(
      buddies.map((b) => [b.user, b.state]),
      [['bob', 'accepted']],
    );

    const whoami = await runCli(['whoami', '--json'], alice);
    assert.equal(whoami.code, 0, whoami.stderr);
    const me = whoami.events[0] ?? {};
    assert.equal(me.event, 'whoami');
    assert.equal(me.user, 'alice');
    assert.match(String(me.registered), /^127\.0\.0\.1:\d+$/);
    assert.match(String(me.global), /^127\.0\.0\.1:\d+$/);
    assert.ok(Array.isArray(me.local));

    const out = await tempDir('buddylink-inbox-');
    const receiver = startCli(['receive', '--out', out, '--once', '--json'], bob);
    const received = collect(receiver, performance.now(), 30_000);
    await waitForEvent(receiver, 'ready');

    const judged = await runCli(['judge', 'bob', '--json'], alice);
    assert.equal(judged.code, 0, judged.stderr);
    assert.deepEqual(judged.events[0], { event: 'judgement', buddy: 'bob', same: true });

    const file = join(await tempDir(), 'photo.jpg');
    const content = randomBytes(2 * 1024 * 1024 + 3);
    await writeFile(file, content);
    const hash = createHash('sha256').update(content).digest('hex');
    const sent = await runCli(['send', 'bob', file, '--json'], alice);
    assert.equal(sent.code, 0, sent.stderr);
    const kinds = sent.events.map((e) => e.event);
    assert.equal(kinds[0], 'attempt');
    assert.ok(kinds.includes('connected'));
    assert.ok(kinds.includes('progress'));
    assert.equal(kinds.at(-1), 'transfer');
    assert.equal(kinds.at(-2), 'sent');
    const attempt = sent.events[0] ?? {};
    assert.deepEqual(Object.keys(attempt).sort(), ['event', 'ms', 'ok', 'path', 'reason']);
    const connected = sent.events.find((e) => e.event === 'connected') ?? {};
    assert.equal(connected.path, 'lan');
    assert.equal(typeof connected.ms, 'number');
    const done = sent.events.at(-2) ?? {};
    const summary = sent.events.at(-1) ?? {};
    assert.equal(summary.files, 1);
    assert.equal(summary.bytes, content.length);
    assert.equal(summary.path, 'lan');
    assert.equal(done.bytes, content.length);
    assert.equal(done.sha256, hash);
    assert.equal(done.path, 'lan');

    const receiverResult = await received;
    assert.equal(receiverResult.code, 0, receiverResult.stderr);
    const got = receiverResult.events.find((e) => e.event === 'received') ?? {};
    assert.equal(got.file, 'photo.jpg');
    assert.equal(got.bytes, content.length);
    assert.equal(got.sha256, hash);
    assert.equal(got.path, 'lan');
    assert.ok((await readFile(join(out, 'photo.jpg'))).equals(content));
  } finally {
    await server.close();
  }
});

test('send --path relay and --path internet are honoured, and without --json a person gets a summary line', async () => {
  const server = await startTestServer();
  try {
    const { alice, bob } = await cliBuddies(server);
    const file = join(await tempDir(), 'notes.txt');
    await writeFile(file, 'hello over the relay\n');
    for (const path of ['relay', 'internet']) {
      const out = await tempDir('buddylink-inbox-');
      const receiver = startCli(['receive', '--out', out, '--once', '--json'], bob);
      const received = collect(receiver, performance.now(), 30_000);
      await waitForEvent(receiver, 'ready');
      const sent = await runCli(['send', 'bob', file, '--path', path], alice);
      assert.equal(sent.code, 0, sent.stderr);
      assert.match(sent.stdout, new RegExp(`sent notes\\.txt .* over ${path}`));
      const got = (await received).events.find((e) => e.event === 'received') ?? {};
      assert.equal(got.path, path);
    }
  } finally {
    await server.close();
  }
});

test('exit codes: usage 2, authentication 3, not a buddy or offline 4 (fast), no path 5', async () => {
  const server = await startTestServer({ relay: false });
  try {
    const { alice, bob } = await cliBuddies(server);
    const carol = await envFor(server);
    assert.equal((await runCli(['--json', 'account', 'create', 'carol'], carol)).code, 0);
    const file = join(await tempDir(), 'f.txt');
    await writeFile(file, 'x');

    assert.equal((await runCli(['send'], alice)).code, 2);
    assert.equal((await runCli(['send', 'bob', file, '--path', 'sideways'], alice)).code, 2);
    assert.equal((await runCli(['frobnicate'], alice)).code, 2);

    const wrong = await runCli(['login', 'alice', '--json'], {
      ...alice,
      BUDDYLINK_PASSWORD: 'wrong password!',
    });
    assert.equal(wrong.code, 3);
    assert.equal(wrong.events[0]?.event, 'error');
    assert.equal(wrong.events[0]?.code, 'AUTH_FAILED');
    assert.match(wrong.stderr, /^buddylink: /);
    const nobody = await runCli(['whoami', '--json'], { ...(await envFor(server)), BUDDYLINK_PASSWORD: '' });
    assert.equal(nobody.code, 3);

    const stranger = await runCli(['send', 'carol', file, '--json'], alice);
    assert.equal(stranger.code, 4);
    assert.equal(stranger.events.at(-1)?.code, 'NOT_BUDDY');

    // bob is not running anything: offline.
    const offline = await runCli(['send', 'bob', file, '--json'], alice);
    assert.equal(offline.code, 4);
    assert.equal(offline.events.at(-1)?.code, 'BUDDY_OFFLINE');
    assert.ok(offline.ms < 5000, `exit 4 came after ${Math.round(offline.ms)} ms`);
    assert.equal((await runCli(['judge', 'bob', '--json'], alice)).code, 4);

    // Online, but the only path asked for (the relay) is switched off on this server.
    const receiver = startCli(['receive', '--out', await tempDir(), '--once', '--json'], bob);
    const received = collect(receiver, performance.now(), 30_000);
    await waitForEvent(receiver, 'ready');
    const noPath = await runCli(['send', 'bob', file, '--path', 'relay', '--json'], alice);
    assert.equal(noPath.code, 5);
    const attempt = noPath.events.find((e) => e.event === 'attempt') ?? {};
    assert.equal(attempt.path, 'relay');
    assert.equal(attempt.ok, false);
    assert.equal(noPath.events.at(-1)?.code, 'NO_PATH');
    receiver.kill('SIGTERM');
    await received;
  } finally {
    await server.close();
  }
});

test('chat: both buddies run `chat`, lines cross in both directions, and Ctrl-D on one side ends both', async () => {
  const server = await startTestServer();
  try {
    const { alice, bob } = await cliBuddies(server);
    const bobChat = startCli(['chat', 'alice', '--json'], bob, { stdin: true });
    const bobDone = collect(bobChat, performance.now(), 30_000);
    const aliceChat = startCli(['chat', 'bob', '--json'], alice, { stdin: true });
    const aliceDone = collect(aliceChat, performance.now(), 30_000);
    await Promise.all([waitForEvent(aliceChat, 'connected'), waitForEvent(bobChat, 'connected')]);
    aliceChat.stdin?.write('hello bob\n');
    bobChat.stdin?.write('hi alice\n');
    await Promise.all([waitForEvent(bobChat, 'message'), waitForEvent(aliceChat, 'message')]);
    aliceChat.stdin?.end();
    const [a, b] = await Promise.all([aliceDone, bobDone]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(
      b.events.filter((e) => e.event === 'message'),
      [{ event: 'message', from: 'alice', text: 'hello bob' }],
    );
    assert.deepEqual(
      a.events.filter((e) => e.event === 'message'),
      [{ event: 'message', from: 'bob', text: 'hi alice' }],
    );
  } finally {
    await server.close();
  }
});
