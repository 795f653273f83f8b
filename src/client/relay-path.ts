import type NoiseSecretStream from '@hyperswarm/secret-stream';
import type { PeerContext } from './context.js';
import { ClientError } from './errors.js';
import { RelayStream } from './relay-stream.js';
import { secureAndVerify } from './secure-channel.js';

/** The relay's budget as the server told it at relay.open, per secure stream (read by connect). */
export interface RelayBudget {
  bytes: number;
  bytesPerSecond: number;
}
const budgets = new WeakMap<object, RelayBudget>();
export function relayBudgetOf(stream: object): RelayBudget | undefined {
  return budgets.get(stream);
}

export interface RelayTry {
  ctx: PeerContext;
  buddy: string;
  session: string;
  pinnedKey: Buffer;
  isInitiator: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * §4.3, the relay of last resort: both buddies ask for the same relay session, join it, and run the
 * same Noise handshake over it as over a direct path, so the server forwards only ciphertext. The
 * initiator also tells the buddy (signal scope 'relay') to join, and stops early if it declines.
 */
export async function openRelay(t: RelayTry): Promise<NoiseSecretStream> {
  const { ctx, buddy, session } = t;
  stopIfCancelled(t.signal);
  const ticket = await ctx.request('relay.open', { buddy, session });
  // Cancelled meanwhile (a direct path won): the relay session is never joined, the buddy never asked.
  stopIfCancelled(t.signal);
  const url = ctx.relayUrl(ticket.path);
  const relay = t.isInitiator
    ? await joinAsInitiator(t, url)
    : await RelayStream.open(url, t.timeoutMs, t.signal);
  const secure = await secureAndVerify(relay, {
    keyPair: ctx.keyPair,
    pinnedKey: t.pinnedKey,
    buddy,
    isInitiator: t.isInitiator,
    timeoutMs: t.timeoutMs,
    ...(t.signal ? { signal: t.signal } : {}),
  });
  if (ticket.budget) budgets.set(secure, ticket.budget);
  return secure;
}

function stopIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ClientError('ABORTED', 'attempt cancelled');
}

async function joinAsInitiator(t: RelayTry, url: string): Promise<RelayStream> {
  const { ctx, buddy, session } = t;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  t.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const declined = ctx.awaitAnswer(buddy, session, 'relay', t.timeoutMs, stop.signal).then((body) => {
      throw new ClientError('DECLINED', `the buddy declined: ${body.reason ?? 'no reason given'}`);
    });
    declined.catch(() => {});
    await ctx.request('signal', {
      to: buddy,
      body: { session, purpose: 'offer', scope: 'relay', addresses: [] },
    });
    stopIfCancelled(t.signal);
    return await Promise.race([RelayStream.open(url, t.timeoutMs, stop.signal), declined]);
  } finally {
    t.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}
