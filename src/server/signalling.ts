import { ProtocolError } from '../protocol/errors.js';
import type { Request } from '../protocol/requests.js';
import type { Result } from '../protocol/results.js';
import type { OnlineDevice } from '../store/online.js';
import { requireOnlineBuddy } from './consent.js';
import type { ServerContext } from './context.js';
import type { ControlConnection } from './control-connection.js';
import { deliverToDevice } from './deliver.js';
import { sameNatAs } from './judgement.js';

/**
 * S51/S71, S73/S53 (local) and S103/S121, S123/S105 (global): passes an address exchange to an accepted,
 * online buddy, unchanged, and to no one else. An offer goes to the buddy's target device; later messages
 * of the same session go to the devices that took part. Local addresses reach only a buddy the server
 * judges to be behind the same NAT (SPEC §4.4), unless the operator reveals addresses anyway.
 */
export async function passSignal(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'signal'>,
): Promise<Result<'signal'>> {
  const { me, target } = await requireOnlineBuddy(ctx, conn, req.to);
  const recipient = await sessionDevice(ctx, me.user, req.to, req.body.session, target);
  if (req.body.scope === 'local' && !ctx.options.revealAddresses && !sameNatAs(ctx, conn, recipient))
    throw new ProtocolError('FORBIDDEN', 'local addresses go only to a buddy behind the same NAT');
  const event = { event: 'signal', from: me.user, fromDevice: me.device, body: req.body } as const;
  const route = { from: me.user, to: req.to, session: req.body.session, fromConnection: conn.id };
  if (!(await deliverToDevice(ctx, recipient, event, route)))
    throw new ProtocolError('BUDDY_OFFLINE', `${req.to} is offline`);
  ctx.signalRoutes.remember(me.user, req.to, req.body.session, {
    [me.user]: conn.id,
    [req.to]: recipient.connectionId,
  });
  ctx.metrics.signals.inc({ scope: req.body.scope });
  return { delivered: true };
}

async function sessionDevice(
  ctx: ServerContext,
  from: string,
  to: string,
  session: string,
  fallback: OnlineDevice,
): Promise<OnlineDevice> {
  const connectionId = ctx.signalRoutes.deviceOf(from, to, session, to);
  if (connectionId === undefined || connectionId === fallback.connectionId) return fallback;
  const devices = await ctx.online.devicesOf(to);
  return devices.find((d) => d.connectionId === connectionId) ?? fallback;
}
