import { ProtocolError } from '../protocol/errors.js';
import type { Request } from '../protocol/requests.js';
import type { Result } from '../protocol/results.js';
import { requireOnlineBuddy } from './consent.js';
import type { ServerContext } from './context.js';
import type { ControlConnection } from './control-connection.js';
import { RELAY_PATH_PREFIX } from './relay-hub.js';

/** relay.open: a ticket for the relay socket, for an accepted buddy who is online (SPEC §4.3). */
export async function openRelay(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'relay.open'>,
): Promise<Result<'relay.open'>> {
  if (!ctx.options.relay) throw new ProtocolError('FORBIDDEN', 'this server does not relay (--no-relay)');
  const { me } = await requireOnlineBuddy(ctx, conn, req.buddy);
  if (!(await ctx.relay.hasQuota(me.user))) {
    ctx.metrics.limited.inc({ limit: 'relay-quota' });
    throw new ProtocolError('RELAY_LIMIT', 'relay quota used up for now; try later');
  }
  // Several nodes: the session is relayed by the node that claimed it first (src/cluster/relay-route.ts).
  const owner = ctx.cluster ? await ctx.cluster.relay.ownerOf(me.user, req.buddy, req.session) : undefined;
  const ticket =
    ctx.cluster && owner !== undefined && owner !== ctx.cluster.nodeId
      ? await ctx.cluster.relay.remoteTicket(owner, me.user, req.buddy, req.session)
      : ctx.relay.open(me.user, req.buddy, req.session);
  const budget = { bytes: ctx.options.relayMaxBytes, bytesPerSecond: ctx.options.relayBytesPerSecond };
  return { ticket, path: `${RELAY_PATH_PREFIX}${ticket}`, budget };
}
