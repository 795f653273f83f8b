import { z } from 'zod';
import { deviceName, endpoint, publicKeyHex, sessionToken, userName } from './fields.js';
import type { RequestType } from './requests.js';

/**
 * Where the server's STUN answers (S101–S102): the port always; the host only when the server knows
 * it (a wildcard bind does not: the client then uses the control server's host with this port).
 */
export const stunEndpoint = z
  .object({ host: endpoint.shape.host.optional(), port: endpoint.shape.port })
  .strict();

/** The result of each request type, validated by the client before use. */
const logonResult = z
  .object({
    user: userName,
    token: sessionToken,
    device: deviceName,
    tokenExpiresAt: z.number().int(),
    /** Absent from servers older than this field: the client then assumes port 3478. */
    stun: z.array(stunEndpoint).min(1).max(4).optional(),
  })
  .strict();

export const buddyState = z.enum(['accepted', 'incoming', 'outgoing']);

/** A buddy as the list shows it: key and presence only once the relation is accepted. */
export const buddyEntry = z
  .object({
    user: userName,
    state: buddyState,
    online: z.boolean().optional(),
    publicKey: publicKeyHex.optional(),
  })
  .strict();

const empty = z.object({}).strict();

export const resultSchemas = {
  'account.create': logonResult,
  logon: logonResult,
  logoff: empty,
  'buddy.request': z.object({ state: z.enum(['requested', 'accepted']) }).strict(),
  'buddy.accept': z.object({ user: userName, publicKey: publicKeyHex }).strict(),
  'buddy.decline': empty,
  'buddy.remove': empty,
  'buddy.list': z.object({ buddies: z.array(buddyEntry) }).strict(),
  /** S24: one bit, and nothing else. */
  sameNat: z.object({ same: z.boolean() }).strict(),
  registeredAddress: z.object({ address: endpoint }).strict(),
  ownAddress: z.object({ address: endpoint }).strict(),
  signal: z.object({ delivered: z.literal(true) }).strict(),
  'relay.open': z
    .object({
      ticket: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
      path: z.string(),
      /** What the session may carry, told up front (absent from older servers). */
      budget: z
        .object({
          /** Bytes in total, both directions, ciphertext. */
          bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
          bytesPerSecond: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
        })
        .strict()
        .optional(),
    })
    .strict(),
  ping: z.object({ now: z.number() }).strict(),
} as const satisfies Record<RequestType, z.ZodType>;

export type Result<T extends RequestType> = z.infer<(typeof resultSchemas)[T]>;
export type BuddyEntry = z.infer<typeof buddyEntry>;
export type StunEndpoint = z.infer<typeof stunEndpoint>;
