import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import NoiseSecretStream, { type KeyPair } from '@hyperswarm/secret-stream';
import { Client, type PathAttempt, type PathMove, type PeerConnection } from '../src/client/index.js';
import { secureAndVerify } from '../src/client/secure-channel.js';
import { SessionHost } from '../src/client/session/host.js';
import { Session } from '../src/client/session/session.js';
import { startServer } from '../src/server/index.js';
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js';
import { formatSpread, spread } from './harness/stats.js';

/**
 * Issue 11: what the session costs and how fast it moves, on loopback.
 *  - throughput of a session against the bare path under it (the same Noise stream over TCP, one
 *    process, 1 MiB writes): the framing's cost (goal ≤ 5%);
 *  - connect → first verified byte with the relay racing from the start;
 *  - a relay start → the session on the direct path, measured from the direct path's proof;
 *  - a carrying path lost (closed) → the session on another path.
 * The lab rows (a silent cut between two NATs) are in test/lab/session.test.ts, which prints them.
 */

const CHUNK = 1024 * 1024;
const SIZES = { full: 512 * CHUNK, smoke: 16 * CHUNK } as const;
const PASSWORD = 'bench-password-not-secret';

async function noisePair(a: KeyPair, b: KeyPair): Promise<[NoiseSecretStream, NoiseSecretStream]> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const dialled = tcpConnect(address.port, '127.0.0.1');
  const [socket] = await accepted;
  server.close();
  const common = { timeoutMs: 5000, buddy: 'peer' };
  return Promise.all([
    secureAndVerify(dialled, { ...common, keyPair: a, pinnedKey: b.publicKey, isInitiator: true }),
    secureAndVerify(socket, { ...common, keyPair: b, pinnedKey: a.publicKey, isInitiator: false }),
  ]);
}

/** MB/s of `bytes` written in 1 MiB chunks from `from` and read at `to` until its end. */
async function pump(from: Duplex, to: Duplex, bytes: number): Promise<number> {
  const chunk = randomBytes(CHUNK);
  let got = 0;
  const done = new Promise<void>((resolve) => {
    to.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= bytes) resolve();
    });
  });
  const started = performance.now();
  for (let sent = 0; sent < bytes; sent += CHUNK) {
    if (!from.write(chunk)) await once(from, 'drain');
  }
  await done;
  return bytes / 1e6 / ((performance.now() - started) / 1000);
}

export async function bareRun(bytes: number): Promise<number> {
  const [a, b] = await noisePair(NoiseSecretStream.keyPair(), NoiseSecretStream.keyPair());
  try {
    return await pump(a, b, bytes);
  } finally {
    a.destroy();
    b.destroy();
  }
}

export async function sessionRun(bytes: number): Promise<number> {
  const alice = NoiseSecretStream.keyPair();
  const bob = NoiseSecretStream.keyPair();
  const [a, b] = await noisePair(alice, bob);
  const started = performance.now();
  const initiator = new Session({ initiator: true, nonce: randomBytes(16), started });
  initiator.offer({ path: 'internet', stream: a });
  const responder = await new SessionHost<Session>(5000).accept(
    {
      carrier: { path: 'internet', stream: b },
      initiatorKey: alice.publicKey,
      responderKey: bob.publicKey,
      path: 'internet',
    },
    (nonce) => new Session({ initiator: false, nonce, started }),
  );
  if (!responder) throw new Error('no session');
  try {
    return await pump(initiator, responder, bytes);
  } finally {
    initiator.destroy();
    responder.destroy();
  }
}

interface Moves {
  firstByteMs: number;
  moveAfterProofMs: number;
  recoverMs: number;
}

/** One connect on loopback: relay start (punching held), the move to direct, a lost path and back. */
async function movesRun(): Promise<Moves> {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    stunPort: 0,
    httpPort: 0,
    dataDir: null,
    logLevel: 'silent',
  });
  const homes = await mkdtemp(join(tmpdir(), 'buddylink-bench-session-'));
  const open = (user: string) =>
    Client.createAccount({
      server: server.urls.ws,
      stun: server.urls.stun,
      user,
      home: join(homes, user),
      listen: true,
      password: PASSWORD,
      liveness: { directRetryMs: 200 },
    });
  const alice = await open('alice');
  const bob = await open('bob');
  try {
    await alice.requestBuddy('bob');
    await bob.acceptBuddy('alice');
    bob.on('connection', (c: PeerConnection) => c.resume());
    let provenAt: number | undefined;
    const started = performance.now();
    const connection = await alice.connect('bob', {
      punchHoldMs: 300,
      relayHeadStartMs: 0,
      onAttempt: (a: PathAttempt) => {
        if (a.ok && a.path !== 'relay') provenAt ??= performance.now();
      },
    });
    const firstByteMs = performance.now() - started;
    connection.resume();
    await once(connection, 'path');
    const moveAfterProofMs = performance.now() - (provenAt ?? Number.NaN);
    const lostAt = performance.now();
    connection.carrierStream?.destroy();
    const [move] = (await once(connection, 'path')) as [PathMove];
    const recoverMs = performance.now() - lostAt;
    if (move.from === 'relay') throw new Error('unexpected move');
    connection.destroy();
    return { firstByteMs, moveAfterProofMs, recoverMs };
  } finally {
    await alice.close();
    await bob.close();
    await server.close();
    await rm(homes, { recursive: true, force: true });
  }
}

async function run(context: BenchmarkContext): Promise<BenchmarkReport> {
  const bytes = context.fileBytes ?? (context.smoke ? SIZES.smoke : SIZES.full);
  const bare: number[] = [];
  const framed: number[] = [];
  const moves: Moves[] = [];
  for (let i = 0; i < context.runs; i++) {
    // Interleaved, so drifting load on the shared machine hits both alike.
    bare.push(await bareRun(bytes));
    framed.push(await sessionRun(bytes));
    moves.push(await movesRun());
    context.log(`run ${i + 1}: bare ${bare[i]?.toFixed(0)} MB/s, session ${framed[i]?.toFixed(0)} MB/s`);
  }
  const b = spread(bare);
  const s = spread(framed);
  const ratio = s.median / b.median;
  const ms = (pick: (m: Moves) => number) => formatSpread(spread(moves.map(pick)), 0);
  return {
    title: `Session on loopback: framing cost and moves (${bytes / CHUNK} MiB, ${context.runs} runs)`,
    setup: [
      'one process, loopback TCP, the same Noise stream (secret-stream) bare and under the session; 1 MiB writes',
      'moves: an in-process server and two clients; punching held 300 ms so the relay carries first',
    ],
    columns: ['figure', 'median (spread)'],
    rows: [
      ['bare Noise path, MB/s', formatSpread(b, 0)],
      ['session on it, MB/s', formatSpread(s, 0)],
      ['connect → first verified byte (relay racing from the start), ms', ms((m) => m.firstByteMs)],
      ['direct path proven → session on it, ms', ms((m) => m.moveAfterProofMs)],
      ['carrying path lost (closed) → session on another, ms', ms((m) => m.recoverMs)],
    ],
    notes: [
      `session / bare = ${ratio.toFixed(3)} (goal ≥ 0.95: ${ratio >= 0.95 ? 'met' : 'missed'})`,
      'a silent cut (no close) is noticed by the keep-alives: see the lab figures (test/lab/session.test.ts)',
    ],
    data: { bytes, bare, framed, moves },
  };
}

export const sessionBenchmark: Benchmark = {
  name: 'session',
  description: 'session framing cost vs the bare path, and the time to move between paths (loopback)',
  run,
};
