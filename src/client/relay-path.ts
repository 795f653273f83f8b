import type NoiseSecretStream from '@hyperswarm/secret-stream';
import type { PeerContext } from './context.js';
import { RelayStream } from './relay-stream.js';
import { secureAndVerify } from './secure-channel.js';

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
 * initiator also tells the buddy (signal scope 'relay') to join.
 */
export async function openRelay(t: RelayTry): Promise<NoiseSecretStream> {
  const { ctx, buddy, session } = t;
  const ticket = await ctx.request('relay.open', { buddy, session });
  if (t.isInitiator) {
    await ctx.request('signal', {
      to: buddy,
      body: { session, purpose: 'offer', scope: 'relay', addresses: [] },
    });
  }
  const relay = await RelayStream.open(ctx.relayUrl(ticket.path), t.timeoutMs, t.signal);
  return secureAndVerify(relay, {
    keyPair: ctx.keyPair,
    pinnedKey: t.pinnedKey,
    buddy,
    isInitiator: t.isInitiator,
    timeoutMs: t.timeoutMs,
    ...(t.signal ? { signal: t.signal } : {}),
  });
}
