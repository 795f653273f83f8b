import { type Endpoint, samePrefix } from '../protocol/index.js';
import type { PeerContext } from './context.js';
import { isServerError, JudgeForbiddenError } from './errors.js';
import { DEFAULT_CLIENT_PREFIX, type Timeouts } from './options.js';

/** S1–S4: ask the server the one bit; it compares the registered addresses (S21–S24). */
export async function askSameNat(ctx: PeerContext, buddy: string): Promise<boolean> {
  const { same } = await ctx.request('sameNat', { buddy });
  return same;
}

/** S204–S205: the buddy's registered address, only when the operator reveals it. */
export async function buddyRegisteredAddress(ctx: PeerContext, buddy: string): Promise<Endpoint> {
  try {
    return (await ctx.request('registeredAddress', { buddy })).address;
  } catch (error) {
    if (isServerError(error, 'FORBIDDEN')) throw new JudgeForbiddenError();
    throw error;
  }
}

/**
 * The variant (S201–S207): the client learns its own global address (S202–S203), fetches the
 * buddy's registered address (S204–S205) and compares them itself with the same masking as the
 * server (S206). Costlier and less private than the one bit (§3.5); only on request.
 */
export async function judgeOnClient(
  ctx: PeerContext,
  buddy: string,
  timeouts: Timeouts,
  prefix: { v4: number; v6: number } = DEFAULT_CLIENT_PREFIX,
): Promise<boolean> {
  const [own, theirs] = await Promise.all([
    ctx.ownGlobalAddress(timeouts),
    buddyRegisteredAddress(ctx, buddy),
  ]);
  return samePrefix(own.host, theirs.host, prefix);
}
