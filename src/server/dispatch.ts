import type { Request, RequestType } from '../protocol/requests.js';
import type { Result } from '../protocol/results.js';
import { createAccount, logoff, logon } from './accounts.js';
import {
  acceptBuddy,
  blockUser,
  declineBuddy,
  listBlocked,
  listBuddies,
  removeBuddy,
  requestBuddy,
  unblockUser,
} from './buddies.js';
import type { ServerContext } from './context.js';
import type { ControlConnection } from './control-connection.js';
import { answerOwnAddress, answerRegisteredAddress, answerSameNat } from './judgement.js';
import { openRelay } from './relay.js';
import { changePassword, listSessions, revokeSessions } from './sessions.js';
import { passSignal } from './signalling.js';

type Handler<T extends RequestType> = (
  ctx: ServerContext,
  conn: ControlConnection,
  request: Request<T>,
) => Promise<Result<T>> | Result<T>;

/** One handler per request type; the compiler checks that none is missing. */
const handlers: { [T in RequestType]: Handler<T> } = {
  'account.create': createAccount,
  logon,
  logoff,
  'buddy.request': requestBuddy,
  'buddy.accept': acceptBuddy,
  'buddy.decline': declineBuddy,
  'buddy.remove': removeBuddy,
  'buddy.list': listBuddies,
  sameNat: answerSameNat,
  registeredAddress: answerRegisteredAddress,
  ownAddress: answerOwnAddress,
  signal: passSignal,
  'relay.open': openRelay,
  ping: () => ({ now: Date.now() }),
  'buddy.block': blockUser,
  'buddy.unblock': unblockUser,
  'buddy.blocked': listBlocked,
  'account.sessions': listSessions,
  'account.revoke': revokeSessions,
  'account.password': changePassword,
};

export function dispatch(ctx: ServerContext, conn: ControlConnection, request: Request): Promise<unknown> {
  const handler = handlers[request.type] as Handler<RequestType>;
  return Promise.resolve(handler(ctx, conn, request));
}
