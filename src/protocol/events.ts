import { z } from 'zod';
import { deviceName, publicKeyHex, userName } from './fields.js';
import { signalBody } from './requests.js';

/** Messages the server pushes without a request: `{v, event, ...}`. */
export const presenceEvent = z
  .object({ v: z.number(), event: z.literal('presence'), user: userName, online: z.boolean() })
  .strict();

/** A pending request reveals nothing but the requester's name. */
export const buddyRequestEvent = z
  .object({ v: z.number(), event: z.literal('buddy.request'), from: userName })
  .strict();

export const buddyAcceptedEvent = z
  .object({ v: z.number(), event: z.literal('buddy.accepted'), user: userName, publicKey: publicKeyHex })
  .strict();

export const buddyRemovedEvent = z
  .object({ v: z.number(), event: z.literal('buddy.removed'), user: userName })
  .strict();

export const signalEvent = z
  .object({
    v: z.number(),
    event: z.literal('signal'),
    from: userName,
    fromDevice: deviceName,
    body: signalBody,
  })
  .strict();

export const shutdownEvent = z
  .object({ v: z.number(), event: z.literal('shutdown'), reason: z.string().max(200) })
  .strict();

/** Another device of the same user logged on (so a stolen password shows itself). */
export const deviceLogonEvent = z
  .object({ v: z.number(), event: z.literal('device.logon'), device: deviceName })
  .strict();

/** This connection's session ended (revoked, expired, password changed); the server closes it next. */
export const sessionEndedEvent = z
  .object({
    v: z.number(),
    event: z.literal('session.ended'),
    reason: z.enum(['revoked', 'expired', 'password changed']),
  })
  .strict();

export const serverEvent = z.discriminatedUnion('event', [
  presenceEvent,
  buddyRequestEvent,
  buddyAcceptedEvent,
  buddyRemovedEvent,
  signalEvent,
  shutdownEvent,
  deviceLogonEvent,
  sessionEndedEvent,
]);

export type ServerEvent = z.infer<typeof serverEvent>;
export type SignalEvent = z.infer<typeof signalEvent>;
export type SessionEndedEvent = z.infer<typeof sessionEndedEvent>;
