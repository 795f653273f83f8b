import { ProtocolError } from '../protocol/errors.js';
import type { SessionEndedEvent } from '../protocol/events.js';
import type { Request } from '../protocol/requests.js';
import type { Result, SessionEntry } from '../protocol/results.js';
import { requireLoggedOn } from './consent.js';
import type { ServerContext } from './context.js';
import type { ControlConnection } from './control-connection.js';
import { hashPassword, verifyPassword } from './passwords.js';

/** Close code of a connection whose session ended (revoked, expired, password changed). */
export const SESSION_ENDED_CLOSE = 4001;

/** setTimeout's ceiling (~24.8 days); longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const expiryTimers = new WeakMap<ControlConnection, NodeJS.Timeout>();

/**
 * Cuts a logged-on connection when its token expires, not at its next logon: an expired session must not
 * go on working. Called once per logon; the timer goes with the connection.
 */
export function armSessionExpiry(ctx: ServerContext, conn: ControlConnection, expiresAt: number): void {
  clearTimeout(expiryTimers.get(conn));
  const wait = expiresAt - Date.now();
  const timer = setTimeout(
    () => {
      if (conn.closed) return;
      if (Date.now() >= expiresAt) endConnection(conn, 'expired');
      else armSessionExpiry(ctx, conn, expiresAt);
    },
    Math.max(0, Math.min(wait, MAX_TIMER_MS)),
  );
  timer.unref();
  expiryTimers.set(conn, timer);
  conn.socket.once('close', () => clearTimeout(timer));
}

function endConnection(conn: ControlConnection, reason: SessionEndedEvent['reason']): void {
  conn.sendEvent({ event: 'session.ended', reason });
  conn.close(SESSION_ENDED_CLOSE, `session ${reason}`);
}

/**
 * Ends at once every live connection of `user` whose token is in `tokenHashes`: revoking a token must not
 * leave the connections that logged on with it working. On this node first; with several nodes, every
 * other node is told over the bus and does the same (a bus that is down is logged: the tokens are gone
 * from the store, so those connections cannot log on again). Returns how many were cut here.
 */
export async function endLiveSessions(
  ctx: ServerContext,
  user: string,
  tokenHashes: ReadonlySet<string>,
  reason: SessionEndedEvent['reason'],
): Promise<number> {
  const n = endLocalSessions(ctx, user, tokenHashes, reason);
  if (ctx.cluster && tokenHashes.size > 0) {
    await ctx.cluster.bus
      .endSessions({ from: ctx.cluster.nodeId, user, tokenHashes: [...tokenHashes], reason })
      .catch((err: unknown) => ctx.log.warn({ err: String(err) }, 'other nodes not told of ended sessions'));
  }
  return n;
}

/** The part of endLiveSessions on this node's own connections (also what the bus message does). */
export function endLocalSessions(
  ctx: ServerContext,
  user: string,
  tokenHashes: ReadonlySet<string>,
  reason: SessionEndedEvent['reason'],
): number {
  let n = 0;
  for (const conn of ctx.connections.values()) {
    if (conn.identity?.user !== user || !tokenHashes.has(conn.identity.tokenHash)) continue;
    endConnection(conn, reason);
    n++;
  }
  return n;
}

/** account.sessions: every unexpired session of the caller, with its device; never a token. */
export async function listSessions(
  ctx: ServerContext,
  conn: ControlConnection,
): Promise<Result<'account.sessions'>> {
  const me = requireLoggedOn(conn);
  const live = await liveTokens(ctx, me.user);
  const now = Date.now();
  const sessions: SessionEntry[] = [];
  for (const t of await ctx.store.tokensOf(me.user)) {
    if (t.expiresAt <= now) continue;
    const devices = live.get(t.tokenHash);
    sessions.push({
      device: devices?.[0] ?? t.device ?? 'device',
      online: devices !== undefined,
      current: t.tokenHash === me.tokenHash,
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
    });
  }
  return { sessions };
}

/** account.revoke: the sessions of one device (by the name it logged on with), or all but the caller's. */
export async function revokeSessions(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'account.revoke'>,
): Promise<Result<'account.revoke'>> {
  const me = requireLoggedOn(conn);
  const live = await liveTokens(ctx, me.user);
  const doomed = new Set<string>();
  for (const t of await ctx.store.tokensOf(me.user)) {
    const names = live.get(t.tokenHash) ?? [];
    const match = req.all
      ? t.tokenHash !== me.tokenHash
      : t.device === req.device || names.includes(req.device ?? '');
    if (match) doomed.add(t.tokenHash);
  }
  if (doomed.size === 0 && !req.all)
    throw new ProtocolError('NO_SESSION', `no session of device ${req.device}`);
  for (const hash of doomed) await ctx.store.deleteToken(hash);
  await endLiveSessions(ctx, me.user, doomed, 'revoked');
  ctx.log.info({ user: me.user, revoked: doomed.size }, 'sessions revoked');
  return { revoked: doomed.size };
}

/** account.password: needs the current password (throttled like a logon); revokes every other session. */
export async function changePassword(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'account.password'>,
): Promise<Result<'account.password'>> {
  const me = requireLoggedOn(conn);
  const ip = conn.registeredAddress.host;
  await ctx.logonThrottle.check(me.user, ip, true);
  await ctx.logonThrottle.begin(me.user, ip);
  const account = await ctx.store.findAccount(me.user);
  if (!account || !(await verifyPassword(req.password, account))) {
    await ctx.logonThrottle.failed(me.user, ip, true);
    throw new ProtocolError('AUTH_FAILED', 'wrong password');
  }
  await ctx.logonThrottle.succeeded(me.user, ip);
  await ctx.store.updatePassword(me.user, await hashPassword(req.newPassword));
  const others = new Set<string>();
  for (const t of await ctx.store.tokensOf(me.user))
    if (t.tokenHash !== me.tokenHash) others.add(t.tokenHash);
  for (const hash of others) await ctx.store.deleteToken(hash);
  await endLiveSessions(ctx, me.user, others, 'password changed');
  ctx.log.info({ user: me.user, revoked: others.size }, 'password changed');
  return { revoked: others.size };
}

/** Token hash → device names logged on with it, on this node. */
async function liveTokens(ctx: ServerContext, user: string): Promise<Map<string, string[]>> {
  const live = new Map<string, string[]>();
  for (const device of await ctx.online.devicesOf(user)) {
    const hash = ctx.connections.get(device.connectionId)?.identity?.tokenHash;
    if (hash === undefined) continue;
    live.set(hash, [...(live.get(hash) ?? []), device.device]);
  }
  return live;
}
