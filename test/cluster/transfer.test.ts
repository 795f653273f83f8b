import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  Client,
  type PeerConnection,
  planItems,
  readHello,
  receiveTransfer,
  StreamReader,
  sendTransfer,
} from '../../src/client/index.js';
import { nextConnection, PASSWORD, randomPayload, tempDir } from '../client/helpers.js';
import { type TestServices, testServices } from '../store/services.js';
import { type NodeProcess, spawnNode, stopNode } from './nodes.js';

let services: TestServices | string = 'not started';
const nodes: NodeProcess[] = [];
const clients: Client[] = [];

before(async () => {
  services = await testServices();
  if (typeof services === 'string') return;
  const s = services;
  // Each node joins `nodes` once it listens, so after() stops it even when the other failed to start.
  await Promise.all(['t1', 't2'].map((id) => spawnNode(s, id, {}, nodes)));
});
after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await Promise.all(nodes.map((n) => stopNode(n)));
  if (typeof services !== 'string') await services.stop();
});

async function account(node: NodeProcess, user: string): Promise<Client> {
  const client = await Client.createAccount({
    server: node.urls.ws,
    stun: node.urls.stun,
    user,
    password: PASSWORD,
    home: await tempDir(),
    listen: true,
  });
  clients.push(client);
  return client;
}

/** Sends 1 MiB + 3 bytes over `connection` with the transfer protocol; the receiver checks the sha256. */
async function transfer(connection: PeerConnection, answered: PeerConnection): Promise<void> {
  const from = await tempDir();
  const out = await tempDir();
  const payload = randomPayload(1024 * 1024 + 3);
  await writeFile(join(from, 'data.bin'), payload);
  const reader = new StreamReader(answered);
  const receiving = (async () => {
    const hello = await readHello(reader);
    if (hello.kind !== 'offer') throw new Error('not an offer');
    return receiveTransfer(answered, reader, hello, 'alice-t', {
      dir: out,
      decide: async () => ({ accept: true }),
    });
  })();
  const items = await planItems([join(from, 'data.bin')]);
  const [sent, received] = await Promise.all([sendTransfer(connection, 'bob-t', { items }), receiving]);
  assert.equal(received.files[0]?.sha256, createHash('sha256').update(payload).digest('hex'));
  assert.equal(sent.files[0]?.sha256, received.files[0]?.sha256);
}

test('buddies on two nodes connect and transfer a file, on the first path and through the relay', async (t) => {
  if (typeof services === 'string') return t.skip(services);
  const [n1, n2] = nodes;
  if (!n1 || !n2) throw new Error('nodes');
  const alice = await account(n1, 'alice-t');
  const bob = await account(n2, 'bob-t');
  await alice.requestBuddy('bob-t');
  await bob.acceptBuddy('alice-t');
  // Same host, so the server's judgement says "same NAT" across nodes, and the LAN path wins.
  assert.equal(await alice.sameNat('bob-t'), true);
  for (const path of [undefined, 'relay'] as const) {
    const incoming = nextConnection(bob);
    const connection = await alice.connect('bob-t', path ? { path } : {});
    const answered = await incoming;
    if (path) assert.equal(connection.path, 'relay');
    await transfer(connection, answered);
    connection.destroy();
    answered.destroy();
  }
  // One node relayed the whole session (its caps apply); the other only forwarded its user's socket.
  const relayed = await Promise.all([n1, n2].map((n) => relayedBytes(n)));
  assert.ok(Math.max(...relayed) > 1024 * 1024, `relayed ${relayed}`);
  assert.equal(Math.min(...relayed), 0);
});

async function relayedBytes(node: NodeProcess): Promise<number> {
  const text = await (await fetch(`${node.urls.http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('buddylink_relayed_bytes_total '));
  return Number(line?.split(' ')[1] ?? 0);
}
