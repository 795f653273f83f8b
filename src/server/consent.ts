import { ProtocolError } from '../protocol/errors.js';
import type { OnlineDevice } from '../store/online.js';
import type { ServerContext } from './context.js';
import type { ControlConnection, Identity } from './control-connection.js';

export function requireLoggedOn(conn: ControlConnection): Identity {
  if (!conn.identity) throw new ProtocolError('NOT_LOGGED_ON', 'log on first');
  return conn.identity;
}

/**
 * Consent (SPEC §3.1): anything about a user's addresses goes only to a buddy that user accepted.
 * Unknown users, pending requests and removed buddies all get the same NOT_BUDDY, so that the
 * refusal itself tells nothing.
 */
export async function requireAcceptedBuddy(ctx: ServerContext, me: Identity, buddy: string): Promise<void> {
  const relation = buddy === me.user ? undefined : await ctx.store.findRelation(me.user, buddy);
  if (relation?.state !== 'accepted') throw new ProtocolError('NOT_BUDDY', `${buddy} is not your buddy`);
}

/**
 * Which of a user's devices the judgement and signals are aimed at, when several are logged on: the most
 * recently logged-on device that said `listen: true` (it takes incoming connections), else the most
 * recently logged-on device. "Most recent" because a user who just moved to another machine is there now.
 * `devices` come most recent first (OnlineRegistry.devicesOf).
 */
export function targetDevice(devices: readonly OnlineDevice[]): OnlineDevice | undefined {
  return devices.find((d) => d.listen) ?? devices[0];
}

/** An accepted buddy that is online, and the device of theirs that requests are aimed at. */
export async function requireOnlineBuddy(
  ctx: ServerContext,
  conn: ControlConnection,
  buddy: string,
): Promise<{ me: Identity; target: OnlineDevice }> {
  const me = requireLoggedOn(conn);
  await requireAcceptedBuddy(ctx, me, buddy);
  const target = targetDevice(await ctx.online.devicesOf(buddy));
  if (!target) throw new ProtocolError('BUDDY_OFFLINE', `${buddy} is offline`);
  return { me, target };
}
