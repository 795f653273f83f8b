import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startTestServer } from './helpers.js';

/**
 * Memory per idle client (issue 6, capacity): a control connection must not keep the HTTP upgrade
 * request (its headers, raw header array and their strings) alive for its whole life. The clients run in
 * another process, so every IncomingMessage in this heap is the server's.
 */

const CLIENTS = 20;

function countObjects(snapshotPath: string, constructorName: string): number {
  const heap = JSON.parse(readFileSync(snapshotPath, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = heap.snapshot.meta.node_fields;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const objectType = heap.snapshot.meta.node_types[0].indexOf('object');
  let count = 0;
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    if (heap.nodes[i + typeAt] === objectType && heap.strings[heap.nodes[i + nameAt]!] === constructorName)
      count++;
  }
  return count;
}

test('an idle control connection does not keep its HTTP upgrade request alive', {
  timeout: 60_000,
}, async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const server = await startTestServer();
  const dir = mkdtempSync(join(tmpdir(), 'upgrade-retention-'));
  const clientScript = `
    const { WebSocket } = await import('ws');
    const sockets = [];
    for (let i = 0; i < ${CLIENTS}; i++) {
      const ws = new WebSocket(${JSON.stringify(server.urls.ws)});
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      sockets.push(ws);
    }
    process.stdout.write('open\\n');
    process.stdin.on('data', () => process.exit(0));
  `;
  const clients = spawn(process.execPath, ['--input-type=module', '-e', clientScript], {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: process.cwd(),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      clients.stdout.once('data', () => resolve());
      clients.once('exit', (code) => reject(new Error(`client process exited with ${code}`)));
    });
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const held = countObjects(writeHeapSnapshot(join(dir, 'server.heapsnapshot')), 'IncomingMessage');
    assert.ok(held < CLIENTS / 2, `${held} upgrade requests still held by ${CLIENTS} open connections`);
  } finally {
    clients.stdin.write('x');
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
