import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import NoiseSecretStream from '@hyperswarm/secret-stream';
import { PeerConnection } from '../../src/client/peer-connection.js';
import { NONCE_BYTES } from '../../src/client/session/frames.js';
import { SessionHost } from '../../src/client/session/host.js';
import { StreamReader } from '../../src/client/stream-reader.js';
import { readHello, receiveTransfer, sendTransfer } from '../../src/client/transfer/index.js';

/**
 * The transfer layer alone (sendTransfer → receiveTransfer over PeerConnection, secret-stream, kernel
 * TCP on loopback), without the CLI, the server or the connect: what the receiver's code costs per
 * byte, for A/B runs and `node --cpu-prof` of the receiving process.
 *   node dist/bench/transfer/receive-cost.js FILE OUTDIR   (the receiver is a child process)
 * Prints one JSON line: bytes, seconds, MB/s, receiver CPU ns/B (user, system), sender CPU ns/B.
 */

function secure(isInitiator: boolean, socket: Socket): Promise<NoiseSecretStream> {
  const secret = new NoiseSecretStream(isInitiator, socket, { keyPair: NoiseSecretStream.keyPair() });
  return new Promise((resolve, reject) => {
    secret.once('connect', () => resolve(secret));
    secret.once('error', reject);
  });
}

const facts = (initiator: boolean) => ({
  remoteUser: initiator ? 'bob' : 'alice',
  remoteKey: '',
  attempts: [],
  connectMs: 0,
});

/** The connection as the product has it: a session (its framing included) carried by the one path. */
async function peer(secret: NoiseSecretStream, initiator: boolean): Promise<PeerConnection> {
  if (initiator) {
    const started = performance.now();
    const connection = new PeerConnection(
      { initiator, nonce: randomBytes(NONCE_BYTES), started },
      facts(initiator),
    );
    connection.offer({ path: 'lan', stream: secret });
    return connection;
  }
  const connection = await new SessionHost<PeerConnection>(5000).accept(
    {
      carrier: { path: 'lan', stream: secret },
      initiatorKey: secret.remotePublicKey ?? Buffer.alloc(32),
      responderKey: secret.publicKey ?? Buffer.alloc(32),
      path: 'lan',
    },
    (nonce) => new PeerConnection({ initiator, nonce, started: performance.now() }, facts(initiator)),
  );
  if (!connection) throw new Error('the session was refused');
  return connection;
}

async function receiver(dir: string): Promise<void> {
  const server = createServer({ allowHalfOpen: true, noDelay: true }, async (socket) => {
    server.close();
    const connection = await peer(await secure(false, socket), false);
    const reader = new StreamReader(connection);
    const hello = await readHello(reader);
    if (hello.kind !== 'offer') throw new Error('not an offer');
    const cpu = process.cpuUsage();
    const faults = process.resourceUsage().minorPageFault;
    const result = await receiveTransfer(connection, reader, hello, 'alice', {
      dir,
      decide: async () => ({ accept: true }),
    });
    const used = process.cpuUsage(cpu);
    process.send?.({
      done: true,
      bytes: result.bytes,
      user: used.user / 1e6,
      system: used.system / 1e6,
      faults: process.resourceUsage().minorPageFault - faults,
    });
    await connection.settle();
    process.exit(0);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
  });
}

interface Received {
  bytes: number;
  user: number;
  system: number;
  faults: number;
}

async function sender(file: string, dir: string): Promise<void> {
  const child = fork(process.argv[1] as string, ['--receive', dir], { execArgv: process.execArgv });
  const port = await new Promise<number>((resolve) =>
    child.once('message', (m: { port: number }) => resolve(m.port)),
  );
  const received = new Promise<Received>((resolve) =>
    child.on('message', (m: Received & { done?: boolean }) => {
      if (m.done) resolve(m);
    }),
  );
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true, noDelay: true });
  const connection = await peer(await secure(true, socket), true);
  const bytes = (await stat(file)).size;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await sendTransfer(connection, 'bob', { items: [{ name: 'bench.bin', path: file, bytes }] });
  const seconds = (performance.now() - started) / 1000;
  const sent = process.cpuUsage(cpu);
  const got = await received;
  await new Promise((resolve) => child.once('exit', resolve));
  await rm(join(dir, 'bench.bin'), { force: true });
  const ns = (s: number) => Number(((s * 1e9) / bytes).toFixed(2));
  console.log(
    JSON.stringify({
      bytes,
      seconds: Number(seconds.toFixed(2)),
      mbPerSecond: Number((bytes / 1e6 / seconds).toFixed(1)),
      receiverNsPerByte: ns(got.user + got.system),
      receiverUser: ns(got.user),
      receiverSystem: ns(got.system),
      receiverPageFaultsPerMiB: Math.round(got.faults / (bytes / 1048576)),
      senderNsPerByte: ns((sent.user + sent.system) / 1e6),
    }),
  );
  connection.destroy();
}

if (process.argv[2] === '--receive') void receiver(process.argv[3] as string);
else void sender(process.argv[2] as string, process.argv[3] as string);
