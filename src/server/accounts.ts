import { ProtocolError } from '../protocol/errors.js';
import type { Request } from '../protocol/requests.js';
import type { Result } from '../protocol/results.js';
import { requireLoggedOn } from './consent.js';
import type { ServerContext } from './context.js';
import type { ControlConnection } from './control-connection.js';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from './passwords.js';
import { deliverToUser, queuePresence } from './presence.js';
import { armSessionExpiry, endLiveSessions } from './sessions.js';
import { hashSessionToken, newSessionToken } from './tokens.js';

/** Device name of a logon that did not name its device; the registry makes repeats unique (device-2, …). */
export const DEFAULT_DEVICE_NAME = 'device';

type LogonResult = Result<'logon'>;

function refuseSecondLogon(conn: ControlConnection): void {
  if (conn.identity) throw new ProtocolError('BAD_REQUEST', 'already logged on; log off first');
}

function authFailed(): ProtocolError {
  return new ProtocolError('AUTH_FAILED', 'wrong user, password or token');
}

/** Creates the account and logs this connection on as its first device. */
export async function createAccount(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'account.create'>,
): Promise<LogonResult> {
  refuseSecondLogon(conn);
  if (!ctx.options.registration)
    throw new ProtocolError('FORBIDDEN', 'registration is closed on this server');
  await ctx.logonThrottle.accountCreation(conn.registeredAddress.host);
  const hash = await hashPassword(req.password);
  const created = await ctx.store.createAccount({
    user: req.user,
    ...hash,
    publicKey: req.publicKey,
    createdAt: Date.now(),
  });
  if (!created) throw new ProtocolError('USER_EXISTS', `${req.user} exists`);
  ctx.log.info({ user: req.user }, 'account created');
  return completeLogon(
    ctx,
    conn,
    req.user,
    await issueToken(ctx, req.user, req.device),
    req.device,
    req.listen,
  );
}

/**
 * Logon by password or by a token from an earlier logon. A wrong user, a wrong password, and an
 * unknown, expired or foreign token all give the same AUTH_FAILED; an unknown user is hashed against
 * a dummy, so that it takes as long as a wrong password.
 */
export async function logon(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'logon'>,
): Promise<LogonResult> {
  refuseSecondLogon(conn);
  const ip = conn.registeredAddress.host;
  const byPassword = req.password !== undefined;
  await ctx.logonThrottle.check(req.user, ip, byPassword);
  let token: { token: string; tokenHash: string; expiresAt: number };
  if (req.password !== undefined) {
    await ctx.logonThrottle.begin(req.user, ip);
    const account = await ctx.store.findAccount(req.user);
    const ok = await verifyPassword(req.password, account ?? DUMMY_PASSWORD_HASH);
    if (!account || !ok) {
      ctx.metrics.logons.inc({ outcome: 'failed' });
      await ctx.logonThrottle.failed(req.user, ip, true);
      throw authFailed();
    }
    await ctx.logonThrottle.succeeded(req.user, ip);
    token = await issueToken(ctx, req.user, req.device);
  } else {
    const given = req.token ?? '';
    const tokenHash = hashSessionToken(given);
    const record = await ctx.store.findToken(tokenHash);
    if (!record || record.user !== req.user || record.expiresAt <= Date.now()) {
      ctx.metrics.logons.inc({ outcome: 'failed' });
      await ctx.logonThrottle.failed(req.user, ip, false);
      throw authFailed();
    }
    token = { token: given, tokenHash, expiresAt: record.expiresAt };
  }
  return completeLogon(ctx, conn, req.user, token, req.device, req.listen);
}

async function issueToken(ctx: ServerContext, user: string, device: string | undefined) {
  const token = newSessionToken();
  const tokenHash = hashSessionToken(token);
  const now = Date.now();
  const expiresAt = now + ctx.options.tokenTtlSeconds * 1000;
  await ctx.store.saveToken({
    tokenHash,
    user,
    createdAt: now,
    expiresAt,
    device: device ?? DEFAULT_DEVICE_NAME,
  });
  return { token, tokenHash, expiresAt };
}

/**
 * Each logon is a device. The user is online while at least one device is logged on; buddies hear
 * "online" at the first device and "offline" after the last (SPEC §3.1).
 */
async function completeLogon(
  ctx: ServerContext,
  conn: ControlConnection,
  user: string,
  token: { token: string; tokenHash: string; expiresAt: number },
  requestedDevice: string | undefined,
  listen: boolean | undefined,
): Promise<LogonResult> {
  if (conn.closed) throw new ProtocolError('BAD_REQUEST', 'connection closed during logon');
  const { device, firstDevice } = await ctx.online.addDevice({
    connectionId: conn.id,
    user,
    requestedDevice: requestedDevice ?? DEFAULT_DEVICE_NAME,
    listen: listen ?? false,
    registeredAddress: conn.registeredAddress,
  });
  conn.identity = { user, device: device.device, listen: device.listen, tokenHash: token.tokenHash };
  if (conn.closed) {
    // The socket closed while the registry was written: its close handler saw no identity yet.
    await logOffDevice(ctx, conn);
    throw new ProtocolError('BAD_REQUEST', 'connection closed during logon');
  }
  ctx.metrics.logons.inc({ outcome: 'ok' });
  ctx.metrics.devicesOnline.inc();
  ctx.log.info({ user, device: device.device, conn: conn.id }, 'logged on');
  armSessionExpiry(ctx, conn, token.expiresAt);
  // The user's other devices hear of every new logon, so a stolen password shows itself.
  if (!firstDevice) await deliverToUser(ctx, user, { event: 'device.logon', device: device.device }, conn.id);
  // Buddies are told in the background: the logon does not wait for them, and a failure there (several
  // nodes: PostgreSQL or Redis) cannot undo a logon the client was told succeeded; it is logged.
  if (firstDevice) queuePresence(ctx, user, true);
  const result: LogonResult = {
    user,
    token: token.token,
    device: device.device,
    tokenExpiresAt: token.expiresAt,
  };
  // Where STUN answers, so a client finds a server on a non-default STUN port without being told.
  if (ctx.stunEndpoints.length > 0) result.stun = [...ctx.stunEndpoints];
  return result;
}

export async function logoff(
  ctx: ServerContext,
  conn: ControlConnection,
  req: Request<'logoff'>,
): Promise<Result<'logoff'>> {
  const me = requireLoggedOn(conn);
  await logOffDevice(ctx, conn);
  if (req.revokeToken) {
    await ctx.store.deleteToken(me.tokenHash);
    // Other connections logged on with the same token end now, not at their next logon.
    await endLiveSessions(ctx, me.user, new Set([me.tokenHash]), 'revoked');
  }
  return {};
}

/** Unregisters the connection's device (logoff, or the socket closed); idempotent. */
export async function logOffDevice(ctx: ServerContext, conn: ControlConnection): Promise<void> {
  const me = conn.identity;
  if (!me) return;
  conn.identity = undefined;
  const removed = await ctx.online.removeDevice(conn.id);
  if (!removed) return;
  ctx.metrics.devicesOnline.dec();
  ctx.log.info({ user: me.user, device: me.device, conn: conn.id }, 'logged off');
  if (removed.lastDevice) queuePresence(ctx, me.user, false);
}
