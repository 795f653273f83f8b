import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import type { RunningServer } from '../../src/server/index.js';
import { randomSessionId, type TestUser } from './helpers.js';

export interface RelaySocket {
  socket: WebSocket;
  paired: Promise<void>;
  received: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
}

export function joinRelay(server: RunningServer, path: string): Promise<RelaySocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${server.urls.ws}${path}`);
    const received: Buffer[] = [];
    let onPaired: () => void = () => {};
    const paired = new Promise<void>((r) => {
      onPaired = r;
    });
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      socket.on('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    socket.on('message', (data, isBinary) => {
      if (!isBinary) {
        assert.deepEqual(JSON.parse(data.toString()), { v: 1, event: 'relay.paired' });
        onPaired();
      } else received.push(data as Buffer);
    });
    socket.once('open', () => resolve({ socket, paired, received, closed }));
    socket.once('error', reject);
  });
}

export async function openPair(server: RunningServer, a: TestUser, b: TestUser) {
  const session = randomSessionId();
  const ra = await a.client.ok('relay.open', { buddy: b.user, session });
  const rb = await b.client.ok('relay.open', { buddy: a.user, session });
  assert.match(String(ra.path), /^\/relay\/[A-Za-z0-9_-]{43}$/);
  const sa = await joinRelay(server, String(ra.path));
  const sb = await joinRelay(server, String(rb.path));
  await Promise.all([sa.paired, sb.paired]);
  return { sa, sb, session };
}

export async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}
