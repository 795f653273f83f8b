import { isIP } from 'node:net';
import { z } from 'zod';
import { PROTOCOL_LIMITS } from './version.js';

/** A request id, echoed in its reply. */
export const requestId = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31);

/** User names: lower-case, so that "Alice" and "alice" can never be two accounts. */
export const userName = z
  .string()
  .min(1)
  .max(PROTOCOL_LIMITS.maxUserLength)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lower-case letters, digits, "_", "." and "-"');

export const password = z.string().min(8).max(PROTOCOL_LIMITS.maxPasswordLength);

/** Ed25519 public key, hex (the Noise static key that buddies pin). */
export const publicKeyHex = z.string().regex(/^[0-9a-f]{64}$/, '32-byte Ed25519 public key in hex');

/** Session token, base64url of 32 random bytes. */
export const sessionToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'session token');

/** Identifies one connection attempt between two buddies, chosen by the initiator: 16 random bytes, hex. */
export const sessionId = z.string().regex(/^[0-9a-f]{32}$/, '16-byte session id in hex');

/** A device label chosen by the client (several devices may be logged on as one user). */
export const deviceName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/);

/** An IP literal (v4 or v6) and a port: a local, global or registered address. */
export const endpoint = z
  .object({
    host: z
      .string()
      .max(45)
      .refine((h) => isIP(h) !== 0, 'IP address literal'),
    port: z.number().int().min(1).max(65535),
  })
  .strict();

export type Endpoint = z.infer<typeof endpoint>;
