import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import NoiseSecretStream from '@hyperswarm/secret-stream';

/**
 * The ceiling of the crypto: the file pipeline of `send` / `receive` (read in 256 KiB chunks and
 * SHA-256 on the sender; SHA-256 and write on the receiver) over `@hyperswarm/secret-stream`, the same
 * Noise XX + XChaCha20-Poly1305 as ours, on a plain kernel TCP socket. Two processes; argv[2] is
 * {"role":"receive","host","out"} or {"role":"send","host","port","file"}. JSON lines on stdout:
 * listening, connected (handshake done), then received / sent with bytes, sha256 and the CPU the
 * process used since connected.
 */

interface Config {
  role: 'send' | 'receive';
  host: string;
  port?: number;
  file?: string;
  out?: string;
}

const CHUNK_BYTES = 256 * 1024;
const config = JSON.parse(process.argv[2] ?? '{}') as Config;

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function secure(isInitiator: boolean, socket: Socket): Promise<NoiseSecretStream> {
  const secret = new NoiseSecretStream(isInitiator, socket, { keyPair: NoiseSecretStream.keyPair() });
  return new Promise((resolve, reject) => {
    secret.once('connect', () => resolve(secret));
    secret.once('error', reject);
  });
}

async function receive(socket: Socket): Promise<void> {
  const secret = await secure(false, socket);
  const cpu = process.cpuUsage();
  emit({ event: 'connected' });
  const hash = createHash('sha256');
  const file = createWriteStream(config.out!);
  let bytes = 0;
  secret.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
    if (!file.write(chunk)) {
      secret.pause();
      file.once('drain', () => secret.resume());
    }
  });
  let ended = false;
  secret.once('close', () => {
    if (!ended) process.stderr.write(`cipher-peer: the stream closed after ${bytes} bytes, before its end\n`);
  });
  await new Promise<void>((resolve) => secret.once('end', resolve));
  ended = true;
  await new Promise<void>((resolve, reject) =>
    file.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  const sha256 = hash.digest('hex');
  // Like receive's receipt: the sender's command ends once the file is on disk.
  secret.end();
  emit({ event: 'received', bytes, sha256, cpuSeconds: cpuSince(cpu) });
}

async function send(): Promise<void> {
  const socket = connect({ port: config.port!, host: config.host, allowHalfOpen: true });
  const secret = await secure(true, socket);
  const cpu = process.cpuUsage();
  emit({ event: 'connected' });
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(config.file!, { highWaterMark: CHUNK_BYTES })) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    bytes += buffer.length;
    if (!secret.write(buffer)) await new Promise((resolve) => secret.once('drain', resolve));
  }
  secret.end();
  secret.resume();
  await new Promise<void>((resolve) => secret.once('end', resolve));
  emit({ event: 'sent', bytes, sha256: hash.digest('hex'), cpuSeconds: cpuSince(cpu) });
  secret.destroy();
}

if (config.role === 'receive') {
  // Half-open: the sender's FIN must not close the socket while paused data is still queued above
  // it (secret-stream drops what it holds when the socket closes).
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    server.close();
    receive(socket).then(
      () => process.exit(0),
      (error: unknown) => {
        emit({ event: 'error', message: String(error) });
        process.exit(1);
      },
    );
  });
  server.listen(0, config.host, () => {
    const address = server.address();
    emit({ event: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
  });
} else {
  send().then(
    () => process.exit(0),
    (error: unknown) => {
      emit({ event: 'error', message: String(error) });
      process.exit(1);
    },
  );
}
