import { describe, test } from 'node:test';
import { LabUnsupportedError } from '../../lab/lab.js';
import { MATRIX } from '../../lab/matrix.js';
import { runScenario } from '../../lab/scenario/run.js';
import { assertRow } from './matrix-assert.js';
import { requireLab } from './support.js';

/** Rows run a few at a time: most of a row is waiting for a timeout or a round trip. */
const CONCURRENCY = Number(process.env.BUDDYLINK_LAB_CONCURRENCY ?? 4);

/**
 * Declares every matrix row as a test, with `delayMs` of one-way delay on each internet link.
 * A lab that cannot run fails under CI=true and is skipped elsewhere (support.ts).
 */
export function defineMatrix(title: string, delayMs: number): void {
  describe(title, { concurrency: CONCURRENCY }, () => {
    for (const row of MATRIX) {
      test(row.name, { timeout: 90_000 }, async (t) => {
        if (!requireLab(t)) return;
        const result = await runScenario({ ...row.scenario, ...(delayMs > 0 ? { delayMs } : {}) }).catch(
          (error: unknown) => {
            if (!(error instanceof LabUnsupportedError) || process.env.CI === 'true') throw error;
            return error;
          },
        );
        if (result instanceof LabUnsupportedError) {
          t.skip(result.message);
          return;
        }
        assertRow(row, result);
      });
    }
  });
}
