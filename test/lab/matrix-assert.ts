import assert from 'node:assert/strict';
import type { MatrixRow } from '../../lab/matrix.js';
import type { ScenarioResult } from '../../lab/scenario/run.js';

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
  const triedLan = r.attempts.some((a) => a.path === 'lan');
  if (row.judged === 'same') assert.ok(triedLan, `judged same: the LAN was tried: ${context}`);
  if (row.judged === 'different')
    assert.ok(!triedLan, `judged different: the LAN was never tried: ${context}`);
  for (const path of row.failedFirst ?? []) {
    const attempt = r.attempts.find((a) => a.path === path);
    assert.ok(attempt && !attempt.ok, `${path} was tried and failed: ${context}`);
  }
  assert.deepEqual(r.addressesInServerOutput, [], 'no client address in the server logs or metrics');
  if (row.scenario.capture) {
    assert.ok(r.captureSeesOwnAddress, 'the capture works: it shows the client its own address');
    if (row.localAddressesShared) {
      assert.ok((r.localAddressesOnPeerWire ?? []).length > 0, 'judged same: local addresses were exchanged');
    } else {
      assert.deepEqual(r.localAddressesOnPeerWire, [], 'no local address reached the other side');
    }
  }
  if (row.punchBudget !== undefined) {
    const sent = r.punchDatagrams;
    assert.ok(sent, `${row.name}: the capture counted punch datagrams`);
    for (const [side, counts] of Object.entries(sent)) {
      assert.ok(
        counts.global <= row.punchBudget,
        `${side} sent ${counts.global} internet punch datagrams, over the budget of ${row.punchBudget}: ${context}`,
      );
    }
    // The answerer (bob) opens with low-TTL probes before it hears alice; alice never lowers hers.
    if (row.punchBudget > 0)
      assert.ok(sent.bob.opening >= 1, `bob sent opening (low-TTL) probes: ${context}`);
    if (row.openingBy === 'both') {
      assert.ok(sent.alice.opening >= 1, `alice's side sockets opened with low TTL: ${context}`);
    } else {
      assert.equal(sent.alice.opening, 0, `alice punched at full TTL: ${context}`);
    }
    if (row.expectedPath === 'internet') {
      assert.ok(sent.alice.global > 0 && sent.bob.global > 0, `both sides punched: ${context}`);
    }
  }
  if (row.maxConnectMs !== undefined && r.delayMs === 0) {
    assert.ok(
      r.connectMs !== undefined && r.connectMs <= row.maxConnectMs,
      `connected in ${r.connectMs} ms, at most ${row.maxConnectMs} ms: ${context}`,
    );
  }
  if (row.scenario.stranger) {
    assert.ok((r.strangerProbes ?? 0) > 0, "the LAN try reached the stranger holding bob's local address");
  }
}
