import { createInterface } from 'node:readline/promises';
import type { Decision, IncomingOffer } from '../client/index.js';
import { UsageError } from './output.js';
import { clearBar, formatBytes } from './progress.js';

/** Who may send and how much, for `receive`: the unattended policy and when to ask a person. */
export interface ConsentPolicy {
  from?: string[];
  maxBytes?: number;
  /** Ask a person (a terminal, no --json, no --yes). */
  ask: boolean;
}

/** `10G`, `500M`, `1.5GiB`, `1000` (bytes). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`not a size: ${text} (try 500M or 10G)`);
  const power = ['', 'k', 'm', 'g', 't'].indexOf((m[2] ?? '').toLowerCase());
  return Math.floor(Number(m[1]) * 1024 ** power);
}

export function describeOffer(offer: IncomingOffer): string {
  if (offer.text !== undefined && offer.files.length === 0) return 'a message';
  const names = offer.files.slice(0, 3).map((f) => f.name);
  const more = offer.files.length > 3 ? `, and ${offer.files.length - 3} more` : '';
  const size = offer.total === null ? 'size not known' : formatBytes(offer.total);
  return `${offer.files.length} file${offer.files.length === 1 ? '' : 's'} (${names.join(', ')}${more}; ${size})`;
}

let queue: Promise<unknown> = Promise.resolve();

/** One question at a time on the terminal, however many offers arrive together. */
function askPerson(offer: IncomingOffer): Promise<boolean> {
  const next = queue.then(async () => {
    clearBar();
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${offer.from} offers ${describeOffer(offer)}. Accept? [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  });
  queue = next.catch(() => {});
  return next;
}

export async function decide(policy: ConsentPolicy, offer: IncomingOffer): Promise<Decision> {
  if (policy.from && !policy.from.includes(offer.from))
    return {
      accept: false,
      code: 'NOT_FROM_YOU',
      reason: `accepting transfers only from ${policy.from.join(', ')}`,
    };
  if (policy.maxBytes !== undefined && offer.total !== null && offer.total > policy.maxBytes)
    return {
      accept: false,
      code: 'TOO_LARGE',
      reason: `${formatBytes(offer.total)} is over the receiver's limit of ${formatBytes(policy.maxBytes)}`,
    };
  if (policy.ask && !(await askPerson(offer)))
    return { accept: false, code: 'DECLINED', reason: 'the receiver said no' };
  return { accept: true };
}
