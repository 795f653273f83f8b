import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerContext } from '../../src/client/context.js';
import { openRelay } from '../../src/client/relay-path.js';

/** A context whose server requests are recorded and answered only when the test says so. */
function recordingContext() {
  const requests: string[] = [];
  let answerTicket: (() => void) | undefined;
  const ctx = {
    request: (type: string) => {
      requests.push(type);
      if (type !== 'relay.open') return Promise.resolve({ delivered: true });
      return new Promise((resolve) => {
        answerTicket = () => resolve({ ticket: 'x'.repeat(43), path: '/relay/x' });
      });
    },
    relayUrl: (path: string) => `ws://127.0.0.1:9${path}`,
    awaitAnswer: () => new Promise(() => {}),
  } as unknown as PeerContext;
  return { ctx, requests, answerTicket: () => answerTicket?.() };
}

const relayTry = (ctx: PeerContext, signal: AbortSignal) => ({
  ctx,
  buddy: 'bob',
  session: '0'.repeat(32),
  pinnedKey: Buffer.alloc(32),
  isInitiator: true,
  timeoutMs: 5000,
  signal,
});

test('a relay try cancelled before it starts asks the server for nothing', async () => {
  const { ctx, requests } = recordingContext();
  const cancelled = AbortSignal.abort();
  await assert.rejects(openRelay(relayTry(ctx, cancelled)), { code: 'ABORTED' });
  assert.deepEqual(requests, []);
});

test('a relay try cancelled while its ticket is on the way (a direct path won) never asks the buddy to join', async () => {
  const { ctx, requests, answerTicket } = recordingContext();
  const stop = new AbortController();
  const opening = openRelay(relayTry(ctx, stop.signal));
  stop.abort();
  answerTicket();
  await assert.rejects(opening, { code: 'ABORTED' });
  assert.deepEqual(requests, ['relay.open'], 'no relay offer was signalled to the buddy');
});
