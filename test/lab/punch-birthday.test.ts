import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario } from '../../lab/scenario/run.js';
import { requireLab } from './support.js';

/**
 * Birthday punching (issue 10, item 2) a few times in a row on real Linux NATs, each try independent
 * (a fresh receiver: a new global port, so no conntrack hole of one try helps the next). The matrix
 * rows check the first try's packets on the wire; the success rate over 50 tries is measured by
 * `npm run lab -- matrix --only symmetric-one --runs 50` and `npm run bench -- lab-reach`.
 */
const TRIES = 4;

for (const topology of ['symmetric-one', 'symmetric-answerer']) {
  test(`${topology}: ${TRIES} independent tries all go direct over the internet`, {
    timeout: 90_000,
  }, async (t) => {
    if (!requireLab(t)) return;
    const r = await runScenario({ topology, sends: TRIES, receiverPerSend: true, fileBytes: 64 * 1024 });
    assert.equal(r.connects.length, TRIES);
    for (const [i, c] of r.connects.entries()) {
      assert.equal(c.exit, 0, `try ${i + 1}: ${c.error ?? ''}`);
      assert.equal(c.path, 'internet', `try ${i + 1} went ${c.path}: ${c.error ?? ''}`);
    }
    assert.equal(r.receivedSha256, r.fileSha256, 'the first try delivered the same bytes (SHA-256)');
  });
}
