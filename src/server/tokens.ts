import { createHash, randomBytes } from 'node:crypto';

/** A session token: 32 random bytes, base64url (43 characters, see protocol/fields.ts). */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The store keeps only this hash. A token has 256 bits of entropy, so a plain SHA-256 suffices (no
 * slow hash needed) and lets the store look the token up by its hash.
 */
export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
