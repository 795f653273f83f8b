import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { Client, type LogonOptions } from '../../src/client/index.js';
import { type RunningServer, type ServerOptions, startServer } from '../../src/server/index.js';

export const PASSWORD = 'correct horse battery';

/** A real server on loopback with every port chosen by the system and nothing on disk. */
export function startTestServer(options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  return startServer({
    host: '127.0.0.1',
    port: 0,
    stunPort: 0,
    httpPort: 0,
    dataDir: null,
    logLevel: 'silent',
    ...options,
  });
}

export function tempDir(prefix = 'buddylink-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Options for a client of `server`: its STUN server, a fresh home, a listening device. */
export async function clientOptions(
  server: RunningServer,
  user: string,
  extra: Partial<LogonOptions> = {},
): Promise<LogonOptions> {
  return {
    server: server.urls.ws,
    stun: server.urls.stun,
    user,
    home: await tempDir(),
    listen: true,
    ...extra,
  };
}

export async function newAccount(
  server: RunningServer,
  user: string,
  extra: Partial<LogonOptions> = {},
): Promise<Client> {
  return Client.createAccount({ ...(await clientOptions(server, user, extra)), password: PASSWORD });
}

/** Two accepted buddies, logged on and listening. */
export async function buddyPair(
  server: RunningServer,
  names: [string, string] = ['alice', 'bob'],
  extra: Partial<LogonOptions> = {},
): Promise<[Client, Client]> {
  const a = await newAccount(server, names[0], extra);
  const b = await newAccount(server, names[1], extra);
  await a.requestBuddy(names[1]);
  await b.acceptBuddy(names[0]);
  return [a, b];
}

export function nextConnection(client: Client): Promise<import('../../src/client/index.js').PeerConnection> {
  return new Promise((resolve) => client.once('connection', resolve));
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function randomPayload(bytes: number): Buffer {
  return randomBytes(bytes);
}

/** Writes `payload` and ends; reads everything the peer sends until it ends. */
export async function exchange(stream: Duplex, payload: Buffer): Promise<Buffer> {
  const received: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => received.push(chunk));
    stream.once('end', () => resolve());
    stream.once('error', reject);
  });
  stream.end(payload);
  await done;
  return Buffer.concat(received);
}

export async function closeAll(...things: { close(): Promise<void> }[]): Promise<void> {
  for (const thing of things) await thing.close().catch(() => {});
}
