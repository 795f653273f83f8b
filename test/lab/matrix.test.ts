import { after, describe, test } from 'node:test';
import { assertRow, type ConnectRecord, connectRecord, writeConnectRecords } from './matrix-assert.js';
import { MATRIX } from './matrix-rows.js';
import { runScenario } from './scenario.js';
import { requireLab } from './support.js';

/**
 * The NAT matrix (issue 5) on real Linux NATs: the real CLI in lab namespaces, each row's path
 * asserted and the file checked by SHA-256. Rows run a few at a time: most of a row is waiting.
 */

const CONCURRENCY = Number(process.env.BUDDYLINK_LAB_CONCURRENCY ?? 4);
const records: ConnectRecord[] = [];
after(() => writeConnectRecords(records));

describe('NAT matrix', { concurrency: CONCURRENCY }, () => {
  for (const row of MATRIX) {
    test(row.name, { timeout: 90_000 }, async (t) => {
      if (!requireLab(t)) return;
      const result = await runScenario(row.scenario);
      records.push(connectRecord(row, result));
      assertRow(row, result);
    });
  }
});
