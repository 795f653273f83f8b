import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cutBetween, liftCut } from '../../lab/cut.js';
import { Lab } from '../../lab/lab.js';
import { CliProcess, type JsonLine, runCli } from '../../lab/scenario/cli-driver.js';
import { findTopology } from '../../lab/topologies.js';
import { requireLab, withLab } from './support.js';

/**
 * The session with the real CLI on real NATs (two endpoint-independent NATs): a send that starts on
 * the relay and moves to the internet path, and one whose internet path is cut mid-transfer (an
 * nftables drop between the two NATs), carried on by the relay, and back on the internet once lifted.
 */

const PASSWORD = 'lab-password-not-secret';
const HOME_A = '203.0.113.10';
const HOME_B = '203.0.113.11';
/** Each figure goes to stdout for BENCHMARKS.md. */
const report = (what: string, value: unknown) =>
  console.log(`# session lab: ${what}: ${JSON.stringify(value)}`);

interface Run {
  lab: Lab;
  dir: string;
  receiver: CliProcess;
  env: (user: string) => NodeJS.ProcessEnv;
  file: string;
  sha256: string;
}

/** Server, accounts, buddies, `receive --once` in bob, and a random file of `bytes` for alice. */
async function setUp(
  lab: Lab,
  dir: string,
  bytes: number,
  serverArgs: string[],
): Promise<Run & { server: CliProcess }> {
  const server = CliProcess.spawn(
    lab,
    'server',
    ['server', '--json', '--host', '203.0.113.2', '--port', '0', '--data', ':memory:', ...serverArgs],
    {},
  );
  const listening = await server.waitForEvent('listening', 10_000);
  if (!listening) throw new Error(`server did not start: ${server.stderr}`);
  const serverUrl = `ws://203.0.113.2:${new URL(String(listening.ws)).port}`;
  const env = (user: string): NodeJS.ProcessEnv => ({
    BUDDYLINK_SERVER: serverUrl,
    BUDDYLINK_HOME: join(dir, user),
    BUDDYLINK_PASSWORD: PASSWORD,
  });
  const must = async (host: string, args: string[]) => {
    const r = await runCli(lab, host, [...args, '--json'], env(host));
    if (r.exitCode !== 0) throw new Error(`${host}: buddylink ${args.join(' ')}: ${r.stderr}`);
  };
  await Promise.all([
    must('alice', ['account', 'create', 'alice']),
    must('bob', ['account', 'create', 'bob']),
  ]);
  await must('alice', ['buddy', 'add', 'bob']);
  await must('bob', ['buddy', 'accept', 'alice']);
  const payload = randomBytes(bytes);
  const file = join(dir, 'payload.bin');
  await writeFile(file, payload);
  const receiver = CliProcess.spawn(
    lab,
    'bob',
    ['receive', '--out', join(dir, 'inbox'), '--once', '--json'],
    env('bob'),
  );
  if (!(await receiver.waitForEvent('ready', 15_000)))
    throw new Error(`receive not ready: ${receiver.stderr}`);
  return {
    lab,
    dir,
    receiver,
    env,
    file,
    sha256: createHash('sha256').update(payload).digest('hex'),
    server,
  };
}

function moves(lines: readonly JsonLine[]): { from: string; to: string; ms: number }[] {
  return lines
    .filter((l) => l.event === 'path')
    .map((l) => ({ from: String(l.from), to: String(l.to), ms: Number(l.ms) }));
}

function pathsOf(line: JsonLine | undefined): { path: string; bytes: number }[] {
  return Array.isArray(line?.paths) ? (line.paths as { path: string; bytes: number }[]) : [];
}

async function inLab(body: (lab: Lab, dir: string) => Promise<void>): Promise<void> {
  const spec = findTopology('two-nats');
  assert.ok(spec);
  const dir = await mkdtemp(join(tmpdir(), 'buddylab-session-'));
  try {
    await withLab(new Lab(spec), (lab) => body(lab, dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('lab, two NATs: a send starts on the relay (punching held back), moves to the internet path, and most bytes go direct', async (t) => {
  if (!requireLab(t)) return;
  await inLab(async (lab, dir) => {
    const run = await setUp(lab, dir, 64 * 1024 * 1024, []);
    try {
      const send = await runCli(
        lab,
        'alice',
        [
          'send',
          'bob',
          run.file,
          '--json',
          '--timeout',
          'punchHoldMs=700',
          '--timeout',
          'relayHeadStartMs=0',
        ],
        run.env('alice'),
        90_000,
      );
      assert.equal(send.exitCode, 0, send.stderr);
      const received = await run.receiver.waitForEvent('received', 15_000);
      const connected = send.lines.find((l) => l.event === 'connected');
      const sent = send.lines.find((l) => l.event === 'sent');
      assert.equal(connected?.path, 'relay', 'the relay carries the start');
      assert.equal(sent?.sha256, run.sha256);
      assert.equal(received?.sha256, run.sha256);
      const [move] = moves(send.lines);
      assert.deepEqual([move?.from, move?.to], ['relay', 'internet']);
      const proven = send.lines.find((l) => l.event === 'attempt' && l.path === 'internet' && l.ok === true);
      assert.ok(proven, 'the internet attempt is reported');
      const paths = pathsOf(sent);
      const direct = paths.filter((p) => p.path === 'internet').reduce((n, p) => n + p.bytes, 0);
      const relay = paths.filter((p) => p.path === 'relay').reduce((n, p) => n + p.bytes, 0);
      assert.ok(direct > relay, `direct ${direct} bytes, relay ${relay}`);
      assert.deepEqual(
        moves(run.receiver.lines).map((m) => [m.from, m.to]),
        [['relay', 'internet']],
      );
      report('first verified byte (relay start), ms', connected?.ms);
      report('move after the direct proof, ms (attempt ms is from its own start)', {
        moveAt: move?.ms,
        paths,
      });
    } finally {
      await run.receiver.stop();
      await run.server.stop();
    }
  });
});

test('lab, two NATs: the internet path cut mid-transfer → the relay carries on; the cut lifted → back on the internet', async (t) => {
  if (!requireLab(t)) return;
  await inLab(async (lab, dir) => {
    // A slow relay keeps the transfer going while the cut is on and lifted.
    const run = await setUp(lab, dir, 160 * 1024 * 1024, [
      '--relay-bytes-per-second',
      String(4 * 1024 * 1024),
    ]);
    try {
      const sender = CliProcess.spawn(
        lab,
        'alice',
        [
          'send',
          'bob',
          run.file,
          '--json',
          '--timeout',
          'punchHoldMs=500',
          '--timeout',
          'relayHeadStartMs=0',
        ],
        run.env('alice'),
      );
      try {
        const toInternet = await sender.waitForEvent('path', 30_000);
        assert.equal(toInternet?.to, 'internet', sender.stderr);
        const cutAt = performance.now();
        await cutBetween(lab, HOME_A, HOME_B);
        const toRelay = await sender.waitForNth('path', 2, 15_000);
        const recoveredMs = performance.now() - cutAt;
        assert.equal(toRelay?.from, 'internet', sender.stderr);
        assert.equal(toRelay?.to, 'relay');
        // While the cut is on, the direct retries fail: nothing moves back before it is lifted.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal(moves(sender.lines).length, 2, 'no move back to the internet while it is cut');
        const liftedAt = performance.now();
        await liftCut(lab);
        const back = await sender.waitForNth('path', 3, 30_000);
        const backMs = performance.now() - liftedAt;
        assert.equal(back?.to, 'internet', sender.stderr);
        const sent = await sender.waitForEvent('sent', 90_000);
        assert.equal(sent?.sha256, run.sha256, sender.stderr);
        const received = await run.receiver.waitForEvent('received', 15_000);
        assert.equal(received?.sha256, run.sha256);
        assert.equal(await sender.exited, 0);
        const paths = pathsOf(sent);
        assert.deepEqual(
          paths.map((p) => p.path),
          ['relay', 'internet', 'relay', 'internet'],
        );
        // Goal: bytes flow again within 2 s of the cut (detection 1.5 s + the relay round).
        assert.ok(recoveredMs < 6000, `back on a path ${recoveredMs.toFixed(0)} ms after the cut`);
        report('on the relay after the cut, ms', Math.round(recoveredMs));
        report('back on the internet after the lift, ms', Math.round(backMs));
        report('paths', paths);
      } finally {
        await sender.stop();
      }
    } finally {
      await run.receiver.stop();
      await run.server.stop();
    }
  });
});
