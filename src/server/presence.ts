import type { ServerEvent } from '../protocol/events.js';
import type { ServerContext } from './context.js';
import { deliverToDevice } from './deliver.js';

type EventBody = ServerEvent extends infer E ? (E extends unknown ? Omit<E, 'v'> : never) : never;

/** Writes an event to every online device of `user` on this node, except the connection `except`. */
export async function deliverToUser(
  ctx: ServerContext,
  user: string,
  event: EventBody,
  except?: string,
): Promise<void> {
  for (const device of await ctx.online.devicesOf(user)) {
    if (device.connectionId === except) continue;
    await deliverToDevice(ctx, device, event);
  }
}

/** The user's accepted buddies. */
export async function acceptedBuddiesOf(ctx: ServerContext, user: string): Promise<string[]> {
  const relations = await ctx.store.relationsOf(user);
  return relations
    .filter((r) => r.state === 'accepted')
    .map((r) => (r.requester === user ? r.target : r.requester));
}

/**
 * SPEC §3.1: when a user comes online (first device) or goes offline (last device), each accepted buddy
 * that is online is told. Pending and removed relations hear nothing.
 */
export async function announcePresence(ctx: ServerContext, user: string, online: boolean): Promise<void> {
  // All at once: on several nodes each buddy costs a round trip to Redis, which need not wait for the last.
  await Promise.all(
    (await acceptedBuddiesOf(ctx, user)).map((buddy) =>
      deliverToUser(ctx, buddy, { event: 'presence', user, online }),
    ),
  );
}

/** Tells the user's buddies in the background, in order per user (presence-queue.ts). */
export function queuePresence(ctx: ServerContext, user: string, online: boolean): void {
  ctx.presence.push(user, async () => {
    // At shutdown everyone leaves at once and the store is closing: no one is left to tell.
    if (!ctx.lifecycle.shuttingDown) await announcePresence(ctx, user, online);
  });
}
