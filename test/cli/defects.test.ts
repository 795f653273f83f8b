import assert from 'node:assert/strict';
import { cp, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { randomPayload, startTestServer, tempDir } from '../client/helpers.js';
import { assertNoStackTrace, cliBuddies, envFor, startReceiver } from './cli-helpers.js';
import { collect, runCli, startCli, waitForEvent } from './run-cli.js';

/**
 * The defects a new user hit (issue 13), each driven through the real CLI as a subprocess. The
 * server's relay is slow and small here, so a transfer over it can be interrupted and can overflow.
 */
const MiB = 1024 * 1024;
let server: RunningServer;
let alice: Record<string, string>;
let bob: Record<string, string>;
let files: string;

before(async () => {
  server = await startTestServer({ relayBytesPerSecond: 2 * MiB, relayMaxBytes: 16 * MiB });
  ({ alice, bob } = await cliBuddies(server));
  files = await tempDir('buddylink-files-');
  await writeFile(join(files, 'f.txt'), 'hello\n');
});
after(async () => {
  await server.close();
});

test('1: a sender whose key the receiver does not pin gets one plain line and an error event, no stack trace', async () => {
  // An imposter: alice's key, logged on as bob.
  const imposter = { ...bob, BUDDYLINK_HOME: await tempDir('buddylink-imposter-') };
  await cp(alice.BUDDYLINK_HOME as string, imposter.BUDDYLINK_HOME as string, { recursive: true });
  const login = await runCli(['login', 'bob', '--json'], imposter);
  assert.equal(login.code, 0, login.stderr);
  const receiver = await startReceiver(alice, ['--out', await tempDir()]);
  try {
    const sent = await runCli(['send', 'alice', join(files, 'f.txt'), '--json'], imposter, 60_000);
    assert.notEqual(sent.code, 0);
    assertNoStackTrace(sent.stderr);
    assert.equal(sent.stderr.trim().split('\n').length, 1, sent.stderr);
    assert.match(sent.stderr, /^buddylink: alice closed the connection without answering/);
    assert.equal(sent.events.at(-1)?.event, 'error');
  } finally {
    receiver.child.kill('SIGTERM');
    await receiver.done;
  }
});

test('2: --local-address and --timeout before the command keep the command (a missing file is exit 2, not help and 0)', async () => {
  for (const args of [
    ['--local-address', '127.0.0.1:5000', 'send', 'bob', '/no/such/file'],
    ['--timeout', 'relayTimeoutMs=2000', 'send', 'bob', '/no/such/file'],
  ]) {
    const r = await runCli(args, alice);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no such file/);
    assert.doesNotMatch(r.stdout + r.stderr, /Usage:/);
  }
  const bare = await runCli([], alice);
  assert.equal(bare.code, 2, 'no command is a usage error');
});

test('3: an explicit --server is used even when the environment and the kept session name another', async () => {
  for (const args of [
    ['--server', 'ws://127.0.0.1:9/', 'whoami', '--json'],
    ['whoami', '--server', 'ws://127.0.0.1:9/', '--json'],
  ]) {
    const r = await runCli(args, alice);
    assert.notEqual(r.code, 0, `the saved server answered: ${r.stdout}`);
    assertNoStackTrace(r.stderr);
  }
});

test('4: a transfer larger than the relay budget is refused up front (exit 5) with the reason; one that fits goes through', async () => {
  const big = join(files, 'big.bin');
  await writeFile(big, randomPayload(17 * MiB));
  const out = await tempDir();
  const receiver = await startReceiver(bob, ['--out', out]);
  try {
    const refused = await runCli(['send', 'bob', big, '--path', 'relay', '--json'], alice, 30_000);
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(refused.stderr, /cannot go through the relay, which carries at most 16\.0 MiB/);
    assert.equal(refused.events.at(-1)?.code, 'RELAY_BUDGET');
    assert.ok(refused.ms < 15_000, `${refused.ms} ms`);
    const fits = await runCli(
      ['send', 'bob', join(files, 'f.txt'), '--path', 'relay', '--json'],
      alice,
      30_000,
    );
    assert.equal(fits.code, 0, fits.stderr);
  } finally {
    receiver.child.kill('SIGTERM');
    await receiver.done;
  }
  assert.deepEqual(
    (await readdir(out)).filter((n) => !n.startsWith('.')),
    ['f.txt'],
  );
});

test('5: Ctrl-C on receive tells the sender at once and keeps a part that the next send resumes; Ctrl-C on send names file and sender', async () => {
  const file = join(files, 'slow.bin');
  await writeFile(file, randomPayload(10 * MiB));
  const out = await tempDir();
  // The receiver stops mid-transfer (relay at 2 MiB/s).
  let receiver = await startReceiver(bob, ['--out', out]);
  const sender = startCli(['send', 'bob', file, '--path', 'relay', '--json'], alice);
  const sending = collect(sender, performance.now(), 60_000);
  await waitForEvent(receiver.child, 'progress', 30_000);
  const stoppedAt = performance.now();
  receiver.child.kill('SIGINT');
  const [sent, got] = await Promise.all([sending, receiver.done]);
  assert.equal(got.code, 130, got.stderr);
  assert.notEqual(sent.code, 0);
  assert.match(sent.stderr, /bob stopped the transfer/);
  assert.ok(
    performance.now() - stoppedAt < 5000,
    `the sender noticed after ${performance.now() - stoppedAt} ms`,
  );
  assertNoStackTrace(sent.stderr);
  const parts = (await readdir(out)).filter((n) => n.endsWith('.part'));
  assert.equal(parts.length, 1, 'the part is kept for a resume');
  const kept = (await stat(join(out, parts[0] as string))).size;
  assert.ok(kept > 0);

  // Sent again, over another path: continues from the part; the whole file's hash checks.
  receiver = await startReceiver(bob, ['--out', out, '--once']);
  const again = await runCli(['send', 'bob', file, '--json'], alice, 60_000);
  assert.equal(again.code, 0, again.stderr);
  const sentEvent = again.events.find((e) => e.event === 'sent') ?? {};
  assert.ok(Number(sentEvent.resumedFrom) > 0, JSON.stringify(sentEvent));
  const received = (await receiver.done).events.find((e) => e.event === 'received') ?? {};
  assert.equal(received.resumedFrom, sentEvent.resumedFrom);
  assert.equal(received.sha256, sentEvent.sha256);
  assert.deepEqual(await readdir(out), ['slow.bin']);

  // The sender stops: the receiver says which file, from whom, at once.
  const out2 = await tempDir();
  receiver = await startReceiver(bob, ['--out', out2, '--once']);
  const sender2 = startCli(['send', 'bob', file, '--path', 'relay', '--json'], alice);
  const sending2 = collect(sender2, performance.now(), 60_000);
  await waitForEvent(receiver.child, 'progress', 30_000);
  const stopped2 = performance.now();
  sender2.kill('SIGINT');
  const [s2, r2] = await Promise.all([sending2, receiver.done]);
  assert.equal(s2.code, 130, s2.stderr);
  assert.equal(r2.code, 1, 'the receiver failed, it was not interrupted');
  // The cancel marker queues behind what is buffered for the slow relay: when the sender exits first,
  // the receiver sees the close; either way it names the file, the sender and how far it got.
  assert.match(
    r2.stderr,
    /(the sender stopped|the connection closed during) slow\.bin from alice after \d+ of 10485760 bytes/,
  );
  assert.ok(
    performance.now() - stopped2 < 5000,
    `the receiver noticed after ${performance.now() - stopped2} ms`,
  );
});

test('6: local files are checked before connecting: missing is exit 2 even when the buddy is offline', async () => {
  const r = await runCli(['send', 'bob', '/no/such/file', '--json'], alice);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /\/no\/such\/file: no such file or folder/);
  assert.equal(r.events.at(-1)?.code, 'BAD_ARGUMENT');
  assertNoStackTrace(r.stderr);
});

test('7: chat with a non-buddy ends at once; chat with someone receiving, or send to a --from filter, says why (exit 4)', async () => {
  const stranger = await runCli(['chat', 'carol', '--json'], alice);
  assert.equal(stranger.code, 4, stranger.stderr);
  assert.match(stranger.stderr, /carol is not your buddy/);

  const receiver = await startReceiver(bob, ['--out', await tempDir(), '--from', 'carol']);
  try {
    const chat = await runCli(['chat', 'bob', '--json'], alice, 30_000);
    assert.equal(chat.code, 4, chat.stderr);
    assert.match(chat.stderr, /receiving files, not chatting/);
    const sent = await runCli(['send', 'bob', join(files, 'f.txt'), '--json'], alice, 30_000);
    assert.equal(sent.code, 4, sent.stderr);
    assert.match(sent.stderr, /bob declined: accepting transfers only from carol/);
  } finally {
    receiver.child.kill('SIGTERM');
    await receiver.done;
  }
});

test("8: a name the receiver's filesystem cannot hold is shortened at the offer, and the sender is told the name", async () => {
  const name = `${'あ'.repeat(100)}.bin`;
  const out = await tempDir();
  const receiver = await startReceiver(bob, ['--out', out, '--once']);
  // Our own filesystem cannot hold it either: the name comes from --name (as from another OS's peer).
  const sent = await runCli(['send', 'bob', join(files, 'f.txt'), '--name', name, '--json'], alice, 30_000);
  assert.equal(sent.code, 0, sent.stderr);
  const event = sent.events.find((e) => e.event === 'sent') ?? {};
  assert.notEqual(event.savedAs, name);
  assert.ok(String(event.savedAs).endsWith('.bin'));
  assert.equal((await receiver.done).code, 0);
  assert.deepEqual(await readdir(out), [event.savedAs]);
});

test('9: logout twice, a failed account create, --version and --help', async () => {
  const home = await envFor(server);
  const failed = await runCli(['account', 'create', 'alice', '--json'], home);
  assert.notEqual(failed.code, 0);
  assert.deepEqual(await readdir(home.BUDDYLINK_HOME as string).catch(() => []), []);

  const eve = await envFor(server);
  assert.equal((await runCli(['account', 'create', 'eve'], eve)).code, 0);
  assert.equal((await runCli(['logout'], eve)).code, 0);
  const twice = await runCli(['logout'], eve);
  assert.equal(twice.code, 0);
  assert.equal(twice.stdout.trim(), 'not logged in: nothing to log out');
  assert.equal(twice.stderr, '');

  const version = await runCli(['--version'], eve);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const help = await runCli(['--help'], eve);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Examples:/);
  assert.match(help.stdout, /Exit codes:[\s\S]*4 +not a buddy/);
  const sendHelp = await runCli(['send', '--help'], eve);
  assert.match(sendHelp.stdout, /default: "auto"/);
  assert.match(sendHelp.stdout, /send bob --text/);
});
