import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { KdfParams } from '../store/store.js';

/** scrypt cost for new passwords (RFC 7914 §2; N=2^14, r=8, p=1 is the interactive-logon setting). */
export const PASSWORD_KDF: KdfParams = { N: 16384, r: 8, p: 1, keyLength: 32 };
const SALT_BYTES = 16;

function derive(password: string, salt: Buffer, kdf: KdfParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      kdf.keyLength,
      { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

export interface PasswordHash {
  passwordHash: Buffer;
  salt: Buffer;
  kdf: KdfParams;
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(SALT_BYTES);
  return { passwordHash: await derive(password, salt, PASSWORD_KDF), salt, kdf: PASSWORD_KDF };
}

/** Constant-time comparison, so that timing tells nothing about how much of the hash matched. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const candidate = await derive(password, stored.salt, stored.kdf);
  return candidate.length === stored.passwordHash.length && timingSafeEqual(candidate, stored.passwordHash);
}

/**
 * Hashed against when the user does not exist, so that "no such user" costs the same scrypt as
 * "wrong password" and timing does not enumerate users (one AUTH_FAILED for both).
 */
export const DUMMY_PASSWORD_HASH: PasswordHash = {
  passwordHash: randomBytes(PASSWORD_KDF.keyLength),
  salt: randomBytes(SALT_BYTES),
  kdf: PASSWORD_KDF,
};
