import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MATRIX, type MatrixRow } from './matrix-rows.js';
import type { ScenarioResult } from './scenario.js';

/** What every matrix row must show, whatever its topology. */
export function assertRow(row: MatrixRow, r: ScenarioResult): void {
  const tried = r.attempts.map((a) => `${a.path}:${a.ok ? 'ok' : `failed (${a.reason})`}`).join(', ');
  const context = `${row.name}: tried ${tried || 'nothing'}; ${r.sendStderr.trim()}`;
  if (row.expectedPath === null) {
    assert.equal(r.sendExit, 5, `exit 5 (no path worked): ${context}`);
    assert.equal(r.path, undefined, context);
  } else {
    assert.equal(r.sendExit, 0, `send succeeded: ${context}`);
    assert.equal(r.path, row.expectedPath, context);
    assert.equal(r.sentSha256, r.fileSha256, 'the sender hashed the file it read');
    assert.equal(r.receivedSha256, r.fileSha256, 'the receiver got the same bytes (SHA-256)');
  }
  for (const path of row.failedFirst ?? []) {
    const attempt = r.attempts.find((a) => a.path === path);
    assert.ok(attempt && !attempt.ok, `${path} was tried and failed: ${context}`);
  }
  assert.deepEqual(r.addressesInServerOutput, [], 'no client address in the server logs or metrics');
  if (row.scenario.capture) {
    assert.deepEqual(r.localAddressesOnPeerWire, [], 'no local address reached the other side');
  }
  if (row.scenario.stranger) {
    assert.ok((r.strangerProbes ?? 0) > 0, "the LAN try reached the stranger holding bob's local address");
  }
}

export interface ConnectRecord {
  row: string;
  topology: string;
  delayMs: number;
  path: string | null;
  connectMs: number | null;
  receiverConnectMs: number | null;
  attempts: ScenarioResult['attempts'];
}

export function connectRecord(row: MatrixRow, r: ScenarioResult): ConnectRecord {
  return {
    row: row.name,
    topology: row.scenario.topology,
    delayMs: r.delayMs,
    path: r.path ?? null,
    connectMs: r.connectMs ?? null,
    receiverConnectMs: r.receiverConnectMs ?? null,
    attempts: r.attempts,
  };
}

/**
 * With BUDDYLINK_LAB_RESULTS=DIR, a matrix run writes its connect times to
 * DIR/nat-lab-connect-<delay>ms.json (bench/results/ keeps the committed ones).
 */
export async function writeConnectRecords(delayMs: number, records: readonly ConnectRecord[]): Promise<void> {
  const dir = process.env.BUDDYLINK_LAB_RESULTS;
  if (!dir || records.length === 0) return;
  const sorted = [...records].sort(
    (a, b) => MATRIX.findIndex((r) => r.name === a.row) - MATRIX.findIndex((r) => r.name === b.row),
  );
  const body = {
    generated: new Date().toISOString(),
    node: process.version,
    delayMs,
    cpus: availableParallelism(),
    records: sorted,
  };
  await writeFile(join(dir, `nat-lab-connect-${delayMs}ms.json`), `${JSON.stringify(body, null, 2)}\n`);
}
