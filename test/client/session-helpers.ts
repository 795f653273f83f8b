import { once } from 'node:events';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import NoiseSecretStream, { type KeyPair } from '@hyperswarm/secret-stream';
import { secureAndVerify } from '../../src/client/secure-channel.js';

/** A real, verified Noise stream pair over a loopback TCP connection: one path for a session test. */
export async function noisePair(
  initiatorKeys: KeyPair,
  responderKeys: KeyPair,
): Promise<[NoiseSecretStream, NoiseSecretStream]> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const dialled = tcpConnect(address.port, '127.0.0.1');
  const [socket] = await accepted;
  server.close();
  const options = { timeoutMs: 5000, buddy: 'peer' };
  return Promise.all([
    secureAndVerify(dialled, {
      ...options,
      keyPair: initiatorKeys,
      pinnedKey: responderKeys.publicKey,
      isInitiator: true,
    }),
    secureAndVerify(socket, {
      ...options,
      keyPair: responderKeys,
      pinnedKey: initiatorKeys.publicKey,
      isInitiator: false,
    }),
  ]);
}

export function keyPair(): KeyPair {
  return NoiseSecretStream.keyPair();
}

/** Polls `done` every 20 ms; fails after `ms` (loops in tests are bounded in time). */
export async function waitUntil(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
