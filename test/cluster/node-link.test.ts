import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { LINK_PATH, NodeLinks } from '../../src/cluster/node-link.js';

const SECRET = Buffer.from('the secret all nodes share, 32 b');
const quiet = { warn() {} };

/** A node's WebSocket port as far as links go: upgrades on LINK_PATH go to its NodeLinks. */
async function nodePort(id: string, received: string[], secret = SECRET) {
  const links = new NodeLinks({
    nodeId: id,
    secret,
    urlOf: async (node) => urls.get(node),
    receive: (text) => received.push(text),
    log: quiet,
  });
  const server: Server = createServer();
  server.on('upgrade', (req, socket, head) => {
    if (req.url === LINK_PATH) links.accept(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  urls.set(id, url);
  return {
    links,
    url,
    close: async () => {
      links.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
const urls = new Map<string, string>();

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(what);
    await sleep(5);
  }
}

/** Tries a link upgrade with the given headers; resolves with the HTTP status of the refusal, or 101. */
function tryLink(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(new URL(LINK_PATH, url), { headers });
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(0));
  });
}

function proof(secret: Buffer, from: string, to: string, at: number): string {
  return createHmac('sha256', secret).update(`buddylink node link\n${from}\n${to}\n${at}`).digest('hex');
}

test('a node link carries messages in order once open; until then the caller is told to use Redis', async () => {
  const onB: string[] = [];
  const a = await nodePort('link-a', []);
  const b = await nodePort('link-b', onB);
  try {
    assert.equal(a.links.send('link-b', 'first'), false, 'no link yet: the caller sends through Redis');
    await until(() => a.links.open.includes('link-b'), 'link to b never opened');
    for (let i = 0; i < 100; i++) assert.equal(a.links.send('link-b', `m${i}`), true);
    await until(() => onB.length === 100, `b got ${onB.length} of 100`);
    assert.deepEqual(
      onB,
      Array.from({ length: 100 }, (_, i) => `m${i}`),
    );
    assert.equal(a.links.sent, 100);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a link without proof of the shared secret, for another node, or with a stale time is refused', async () => {
  const received: string[] = [];
  const b = await nodePort('link-c', received);
  try {
    const now = Date.now();
    const good = { 'x-buddylink-node': 'x', 'x-buddylink-time': String(now) };
    assert.equal(
      await tryLink(b.url, { ...good, 'x-buddylink-proof': proof(SECRET, 'x', 'link-c', now) }),
      101,
    );
    const wrongSecret = proof(Buffer.from('not the secret'), 'x', 'link-c', now);
    assert.equal(await tryLink(b.url, { ...good, 'x-buddylink-proof': wrongSecret }), 403);
    const forAnother = proof(SECRET, 'x', 'some-other-node', now);
    assert.equal(await tryLink(b.url, { ...good, 'x-buddylink-proof': forAnother }), 403);
    const old = now - 5 * 60_000;
    assert.equal(
      await tryLink(b.url, {
        'x-buddylink-node': 'x',
        'x-buddylink-time': String(old),
        'x-buddylink-proof': proof(SECRET, 'x', 'link-c', old),
      }),
      403,
      'a proof seen on the wire earlier cannot be replayed later',
    );
    assert.equal(await tryLink(b.url, { 'x-buddylink-node': 'x' }), 403, 'no proof at all');
    // A node with another secret never links either.
    const stranger = await nodePort('link-d', [], Buffer.from('another deployment secret......'));
    try {
      stranger.links.warm('link-c');
      await sleep(300);
      assert.deepEqual(stranger.links.open, []);
    } finally {
      await stranger.close();
    }
    assert.deepEqual(received, [], 'nothing refused got through');
  } finally {
    await b.close();
  }
});

test('a link whose node went away falls back to Redis, and is opened again when the node is back', async () => {
  const onF: string[] = [];
  const e = await nodePort('link-e', []);
  let f = await nodePort('link-f', onF);
  try {
    e.links.warm('link-f');
    await until(() => e.links.open.includes('link-f'), 'link to f never opened');
    await f.close();
    await until(() => !e.links.open.includes('link-f'), 'the closed link still counts as open');
    assert.equal(e.links.send('link-f', 'while away'), false);
    f = await nodePort('link-f', onF);
    // Not retried within a second of the failure (a down node is not hammered), then opened again.
    await sleep(1100);
    e.links.send('link-f', 'wakes the link');
    await until(() => e.links.open.includes('link-f'), 'link to f not opened again');
    assert.equal(e.links.send('link-f', 'back'), true);
    await until(() => onF.includes('back'), 'f never got the message');
  } finally {
    await e.close();
    await f.close();
  }
});
