import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { FINGERPRINT_XOR, HEADER_LENGTH, MESSAGE_INTEGRITY_LENGTH } from './constants.js';
import { crc32 } from './crc32.js';

/**
 * The two checksums of RFC 8489: FINGERPRINT (§14.7, CRC-32 to tell STUN from other traffic) and
 * MESSAGE-INTEGRITY (§14.5, HMAC-SHA1 keyed by the credential). Both are computed over the message
 * up to the attribute itself, with the header length rewritten as if that attribute were the last
 * one, which is why these work on raw bytes and an offset.
 */

/** CRC over bytes [0, fingerprintOffset) with the header length ending right after FINGERPRINT. */
export function fingerprintOf(packet: Uint8Array, fingerprintOffset: number): number {
  // The header length already covers FINGERPRINT when it is the last attribute, which §14.7 demands.
  return (crc32(packet, 0, fingerprintOffset) ^ FINGERPRINT_XOR) >>> 0;
}

/** HMAC-SHA1 over bytes [0, integrityOffset) with the length field set to end after MESSAGE-INTEGRITY. */
export function messageIntegrityOf(packet: Uint8Array, integrityOffset: number, key: Uint8Array): Buffer {
  const header = Buffer.from(packet.subarray(0, HEADER_LENGTH));
  header.writeUInt16BE(integrityOffset - HEADER_LENGTH + MESSAGE_INTEGRITY_LENGTH, 2);
  return createHmac('sha1', key)
    .update(header)
    .update(packet.subarray(HEADER_LENGTH, integrityOffset))
    .digest();
}

/** Constant-time comparison of a received MESSAGE-INTEGRITY value with the one we compute. */
export function integrityMatches(
  packet: Uint8Array,
  integrityOffset: number,
  received: Uint8Array,
  key: Uint8Array,
): boolean {
  const expected = messageIntegrityOf(packet, integrityOffset, key);
  return received.length === expected.length && timingSafeEqual(expected, received);
}

/**
 * RFC 8489 §9.1.1: the short-term key is the OpaqueString-prepared password. Preparation
 * (RFC 8265) is the caller's job: ASCII passwords, which ICE uses, are unchanged by it.
 */
export function shortTermKey(password: string): Buffer {
  return Buffer.from(password, 'utf8');
}

/**
 * RFC 8489 §9.2.2: the long-term key (MD5 algorithm) is MD5(username ":" realm ":" password), the
 * password after OpaqueString preparation (again the caller's job).
 */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest();
}
