import { z } from 'zod';
import {
  deviceName,
  endpoint,
  password,
  publicKeyHex,
  requestId,
  sessionId,
  sessionToken,
  userName,
} from './fields.js';
import { PROTOCOL_LIMITS } from './version.js';

/**
 * Every request a client may send on the control channel, one schema per type.
 * The envelope `{v, id, type}` is checked first (see envelope.ts); the rest here.
 */
const base = { v: z.number().int(), id: requestId };

export const accountCreate = z
  .object({
    ...base,
    type: z.literal('account.create'),
    user: userName,
    password,
    publicKey: publicKeyHex,
    device: deviceName.optional(),
    listen: z.boolean().optional(),
  })
  .strict();

/** Log on with either a password or a token from an earlier logon, never both. */
export const logon = z
  .object({
    ...base,
    type: z.literal('logon'),
    user: userName,
    password: password.optional(),
    token: sessionToken.optional(),
    device: deviceName.optional(),
    /** This device takes incoming connections (judgement and signals are aimed at it first). */
    listen: z.boolean().optional(),
  })
  .strict()
  .refine((m) => (m.password === undefined) !== (m.token === undefined), 'give a password or a token');

export const logoff = z
  .object({ ...base, type: z.literal('logoff'), revokeToken: z.boolean().optional() })
  .strict();

const buddyOp = <T extends string>(type: T) =>
  z.object({ ...base, type: z.literal(type), user: userName }).strict();

export const buddyRequest = buddyOp('buddy.request');
export const buddyAccept = buddyOp('buddy.accept');
export const buddyDecline = buddyOp('buddy.decline');
export const buddyRemove = buddyOp('buddy.remove');
export const buddyList = z.object({ ...base, type: z.literal('buddy.list') }).strict();

/** S2: "is buddy B's registered address the same as mine?" */
export const sameNat = z.object({ ...base, type: z.literal('sameNat'), buddy: userName }).strict();

/** S204: the variant, only when the operator allows it. */
export const registeredAddress = z
  .object({ ...base, type: z.literal('registeredAddress'), buddy: userName })
  .strict();

/** S141: the caller's own registered address. */
export const ownAddress = z.object({ ...base, type: z.literal('ownAddress') }).strict();

/**
 * S51/S73 (local) and S103/S123 (global): an address exchange passed to an accepted buddy.
 * `offer` opens an exchange and `answer` replies at once with the answerer's own addresses
 * (the seed's shortcut), so the common exchange costs one round trip through the server.
 */
/** A NAT's mapping behaviour, as a signal carries it. */
export const natClass = z
  .object({
    mapping: z.enum(['endpoint-independent', 'address-and-port-dependent', 'unknown']),
    portPreserved: z.boolean(),
  })
  .strict();

export const signalBody = z
  .object({
    session: sessionId,
    purpose: z.enum(['offer', 'answer', 'abort']),
    scope: z.enum(['local', 'global', 'relay']),
    addresses: z.array(endpoint).max(PROTOCOL_LIMITS.maxAddresses),
    /** The sender's UDX stream id for this session (uint32). */
    streamId: z
      .number()
      .int()
      .min(1)
      .max(2 ** 32 - 1)
      .optional(),
    /**
     * Answers only: a TCP port the answerer listens on for this session, on the hosts of its
     * addresses. Sent on the LAN (no NAT between the peers) and with global addresses only when the
     * answerer's global address is its own interface's (no NAT in front of it), so kernel TCP can
     * carry the bytes.
     */
    tcpPort: z.number().int().min(1).max(65535).optional(),
    /**
     * Global offers and answers: how the sender's NAT maps (RFC 4787 terms, learnt from the server's
     * two STUN ports), so the pair picks its punch strategy before the first punch (issue 10).
     */
    nat: natClass.optional(),
    /** Only the offerer sends: the answerer need not ask for the offerer's addresses (one-way, §3.3). */
    oneWay: z.boolean().optional(),
    reason: z.string().max(200).optional(),
  })
  .strict();

export const signal = z
  .object({ ...base, type: z.literal('signal'), to: userName, body: signalBody })
  .strict();

/** §4.3: ask for a relay session with a buddy; both sides must ask for the same session id. */
export const relayOpen = z
  .object({ ...base, type: z.literal('relay.open'), buddy: userName, session: sessionId })
  .strict();

export const ping = z.object({ ...base, type: z.literal('ping') }).strict();

export const requestSchemas = {
  'account.create': accountCreate,
  logon,
  logoff,
  'buddy.request': buddyRequest,
  'buddy.accept': buddyAccept,
  'buddy.decline': buddyDecline,
  'buddy.remove': buddyRemove,
  'buddy.list': buddyList,
  sameNat,
  registeredAddress,
  ownAddress,
  signal,
  'relay.open': relayOpen,
  ping,
} as const;

export type RequestType = keyof typeof requestSchemas;
export type Request<T extends RequestType = RequestType> = z.infer<(typeof requestSchemas)[T]>;
export type SignalBody = z.infer<typeof signalBody>;
