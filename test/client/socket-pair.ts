import { once } from 'node:events';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { after } from 'node:test';

/** Two ends of a real TCP connection on loopback, half-open allowed (as the product's paths are). */
export async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer({ allowHalfOpen: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const dialled = tcpConnect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(dialled, 'connect');
  const [socket] = await accepted;
  server.close();
  return [dialled, socket];
}

const opened: Socket[] = [];
after(() => {
  for (const s of opened) s.destroy();
});

/** A socketPair destroyed after the importing test file's tests, whatever they left open. */
export async function trackedPair(): Promise<[Socket, Socket]> {
  const pair = await socketPair();
  opened.push(...pair);
  return pair;
}
