import { ClientError, type PeerConnection } from '../client/index.js';
import { formatBytes } from './progress.js';

/** Noise framing, our chunk heads and the receipts coming back: a safe margin over the file bytes. */
const OVERHEAD_SHARE = 0.03;
const OVERHEAD_BYTES = 1024 * 1024;

/** The transfer cannot fit what the relay said it would carry: refused before a byte of it is sent. */
export class RelayBudgetError extends ClientError {
  constructor(message: string) {
    super('RELAY_BUDGET', message);
    this.name = 'RelayBudgetError';
  }
}

/**
 * Checks the bytes still to send against the relay session's budget (told at relay.open). A direct
 * path is always preferred by connect; on the relay this is the last word: refuse clearly up front
 * rather than die at the cap. Standard input (size unknown) is let through with the cap as its limit.
 */
export function checkRelayBudget(connection: PeerConnection, user: string, remaining: number | null): void {
  const budget = connection.relayBudget;
  if (connection.path !== 'relay' || !budget || remaining === null) return;
  const needed = Math.ceil(remaining * (1 + OVERHEAD_SHARE)) + OVERHEAD_BYTES;
  if (needed <= budget.bytes) return;
  throw new RelayBudgetError(
    `${formatBytes(remaining)} cannot go through the relay, which carries at most ${formatBytes(budget.bytes)} ` +
      `per transfer, and no direct path to ${user} worked; nothing was sent. Send fewer files at a time ` +
      `(an interrupted file resumes), or ask the server's operator for a larger --relay-max-bytes.`,
  );
}
