import { ProtocolError } from '../protocol/errors.js';
import type { Request } from '../protocol/requests.js';
import type { BuddyEntry, Result } from '../protocol/results.js';
import { requireLoggedOn } from './consent.js';
import type { ServerContext } from './context.js';
import type { ControlConnection } from './control-connection.js';
import { limitKey } from './limits/counters.js';
import { deliverToUser } from './presence.js';

function refuseSelf(me: string, other: string): void {
  if (me === other) throw new ProtocolError('BAD_REQUEST', 'you cannot be your own buddy');
}

/**
 * Asks `user` to become a buddy. The target hears only the requester's name (buddy.request). A request
 * to someone who already asked you is consent on both sides, so it accepts at once.
 *
 * Against request spam (issue 14): new requests are counted per user; after a decline the same request is
 * answered `requested` but neither kept nor shown for a cool-off; after a withdrawal it is kept but shown
 * again only after the cool-off; a user who blocked the requester hears nothing. With enumerationSafe an
 * unknown user gets the same `requested`, so the answer does not tell who exists.
 */
export async function requestBuddy(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'buddy.request'>,
): Promise<Result<'buddy.request'>> {
  const me = requireLoggedOn(conn);
  refuseSelf(me.user, req.user);
  const exists = (await ctx.store.findAccount(req.user)) !== undefined;
  if (!exists && !ctx.options.enumerationSafe) throw new ProtocolError('NOT_BUDDY', `no user ${req.user}`);
  if (await ctx.store.isBlocked(me.user, req.user))
    throw new ProtocolError('FORBIDDEN', `you blocked ${req.user}; unblock first`);
  const blocked = exists && (await ctx.store.isBlocked(req.user, me.user));
  const relation = exists && !blocked ? await ctx.store.findRelation(me.user, req.user) : undefined;
  if (relation?.state === 'accepted') return { state: 'accepted' };
  if (relation?.requester === req.user) {
    await makeBuddies(ctx, conn, req.user, me.user, { replyCarriesKey: false });
    return { state: 'accepted' };
  }
  if (relation) return { state: 'requested' };
  // A new request, real or not: counted alike, so that unknown and blocking users look the same.
  const options = ctx.options;
  const sent = await ctx.limits.add(
    limitKey('buddy-requests', me.user),
    1,
    options.buddyRequestWindowSeconds * 1000,
  );
  if (sent > options.buddyRequestsPerUser) {
    ctx.metrics.limited.inc({ limit: 'buddy-requests' });
    throw new ProtocolError('RATE_LIMITED', 'too many buddy requests');
  }
  if (!exists || blocked) return { state: 'requested' };
  if ((await ctx.limits.markedUntil(limitKey('buddy-declined', me.user, req.user))) > 0)
    return { state: 'requested' };
  await ctx.store.putRelation({
    requester: me.user,
    target: req.user,
    state: 'pending',
    createdAt: Date.now(),
  });
  const shown = limitKey('buddy-shown', me.user, req.user);
  if ((await ctx.limits.markedUntil(shown)) === 0) {
    await ctx.limits.mark(shown, Date.now() + options.buddyRequestCooloffSeconds * 1000);
    await deliverToUser(ctx, req.user, { event: 'buddy.request', from: me.user });
  }
  return { state: 'requested' };
}

export async function acceptBuddy(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'buddy.accept'>,
): Promise<Result<'buddy.accept'>> {
  const me = requireLoggedOn(conn);
  refuseSelf(me.user, req.user);
  const relation = await ctx.store.findRelation(me.user, req.user);
  if (relation?.state !== 'pending' || relation.requester !== req.user)
    throw new ProtocolError('NO_REQUEST', `no pending request from ${req.user}`);
  const publicKey = await makeBuddies(ctx, conn, req.user, me.user, { replyCarriesKey: true });
  return { user: req.user, publicKey };
}

/**
 * Turns a pending request into an accepted relation, then tells both sides: each device learns the
 * other's public key to pin (SPEC §4.2), and each online side sees the other online. The connection
 * that accepted is not sent buddy.accepted when its reply already carries the key.
 */
async function makeBuddies(
  ctx: ServerContext,
  conn: ControlConnection,
  requester: string,
  accepter: string,
  how: { replyCarriesKey: boolean },
): Promise<string> {
  const [requesterAccount, accepterAccount] = await Promise.all([
    ctx.store.findAccount(requester),
    ctx.store.findAccount(accepter),
  ]);
  if (!requesterAccount || !accepterAccount) throw new ProtocolError('NO_REQUEST', 'the account is gone');
  await ctx.store.putRelation({ requester, target: accepter, state: 'accepted', createdAt: Date.now() });
  ctx.log.info({ requester, accepter }, 'buddies');
  await deliverToUser(ctx, requester, {
    event: 'buddy.accepted',
    user: accepter,
    publicKey: accepterAccount.publicKey,
  });
  await deliverToUser(
    ctx,
    accepter,
    { event: 'buddy.accepted', user: requester, publicKey: requesterAccount.publicKey },
    how.replyCarriesKey ? conn.id : undefined,
  );
  if (await ctx.online.isOnline(accepter))
    await deliverToUser(ctx, requester, { event: 'presence', user: accepter, online: true });
  if (await ctx.online.isOnline(requester))
    await deliverToUser(ctx, accepter, { event: 'presence', user: requester, online: true });
  return requesterAccount.publicKey;
}

/** Declines a pending request silently: the requester is not told (it learns nothing it did not know). */
export async function declineBuddy(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'buddy.decline'>,
): Promise<Result<'buddy.decline'>> {
  const me = requireLoggedOn(conn);
  const relation = await ctx.store.findRelation(me.user, req.user);
  if (relation?.state !== 'pending' || relation.requester !== req.user)
    throw new ProtocolError('NO_REQUEST', `no pending request from ${req.user}`);
  await ctx.store.deleteRelation(me.user, req.user);
  // The requester may not ask again for a cool-off (its new requests are answered, never shown).
  await ctx.limits.mark(
    limitKey('buddy-declined', req.user, me.user),
    Date.now() + ctx.options.buddyRequestCooloffSeconds * 1000,
  );
  return {};
}

/**
 * Ends a relation of any state (also withdraws an own request or declines an incoming one). Removing
 * an accepted buddy withdraws everything at once: from the next request on, presence, judgement and
 * signalling are refused, routed signal sessions are forgotten and relay sessions between the two
 * are cut; the other side is told with buddy.removed.
 */
export async function removeBuddy(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'buddy.remove'>,
): Promise<Result<'buddy.remove'>> {
  const me = requireLoggedOn(conn);
  const relation = await ctx.store.findRelation(me.user, req.user);
  if (!relation) throw new ProtocolError('NOT_BUDDY', `${req.user} is not your buddy`);
  await ctx.store.deleteRelation(me.user, req.user);
  ctx.signalRoutes.forgetPair(me.user, req.user);
  ctx.relay.closePair(me.user, req.user);
  if (relation.state === 'accepted') {
    ctx.log.info({ user: me.user, buddy: req.user }, 'buddy removed');
    await deliverToUser(ctx, req.user, { event: 'buddy.removed', user: me.user });
    await deliverToUser(ctx, me.user, { event: 'buddy.removed', user: req.user }, conn.id);
  }
  return {};
}

/** The caller's relations; public key and presence only for accepted buddies. */
export async function listBuddies(
  ctx: ServerContext,
  conn: ControlConnection,
): Promise<Result<'buddy.list'>> {
  const me = requireLoggedOn(conn);
  const buddies: BuddyEntry[] = [];
  for (const r of await ctx.store.relationsOf(me.user)) {
    const other = r.requester === me.user ? r.target : r.requester;
    if (r.state === 'pending') {
      buddies.push({ user: other, state: r.requester === me.user ? 'outgoing' : 'incoming' });
      continue;
    }
    const account = await ctx.store.findAccount(other);
    const entry: BuddyEntry = { user: other, state: 'accepted', online: await ctx.online.isOnline(other) };
    if (account) entry.publicKey = account.publicKey;
    buddies.push(entry);
  }
  return { buddies };
}

/**
 * buddy.block (like XEP-0191): any relation with `user` ends and from now on `user` sees nothing new of
 * the caller: requests are answered as if sent but neither kept nor shown, and an accepted buddy hears
 * only that the caller went offline (as after a last logoff), never that it was blocked.
 */
export async function blockUser(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'buddy.block'>,
): Promise<Result<'buddy.block'>> {
  const me = requireLoggedOn(conn);
  refuseSelf(me.user, req.user);
  await ctx.store.putBlock(me.user, req.user, Date.now());
  const relation = await ctx.store.findRelation(me.user, req.user);
  if (!relation) return {};
  await ctx.store.deleteRelation(me.user, req.user);
  ctx.signalRoutes.forgetPair(me.user, req.user);
  ctx.relay.closePair(me.user, req.user);
  if (relation.state === 'accepted') {
    if (await ctx.online.isOnline(me.user))
      await deliverToUser(ctx, req.user, { event: 'presence', user: me.user, online: false });
    await deliverToUser(ctx, me.user, { event: 'buddy.removed', user: req.user }, conn.id);
  }
  ctx.log.info({ user: me.user }, 'user blocked');
  return {};
}

export async function unblockUser(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'buddy.unblock'>,
): Promise<Result<'buddy.unblock'>> {
  const me = requireLoggedOn(conn);
  if (!(await ctx.store.deleteBlock(me.user, req.user)))
    throw new ProtocolError('NOT_BUDDY', `${req.user} is not blocked`);
  return {};
}

export async function listBlocked(
  ctx: ServerContext,
  conn: ControlConnection,
): Promise<Result<'buddy.blocked'>> {
  const me = requireLoggedOn(conn);
  return { users: await ctx.store.blocksOf(me.user) };
}
