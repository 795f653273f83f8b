import { createHmac } from 'node:crypto';
import { ipBytes, type PrefixLengths } from '../protocol/addresses.js';

/**
 * What a node publishes so that another node can judge (S23) without the address: an HMAC, keyed with
 * the secret all nodes share, of the registered address masked to the operator's prefix. Two devices
 * get equal tags exactly when their masked addresses are equal (sameBytePrefix), and a reader of Redis
 * without the secret cannot test guesses against a tag. 128 bits keep a false "same" out of reach.
 */
export function natTag(secret: Buffer, host: string, prefix: PrefixLengths): string {
  const bytes = ipBytes(host);
  const bits = bytes.length === 4 ? prefix.v4 : prefix.v6;
  const masked = Buffer.alloc(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const left = Math.max(0, Math.min(8, bits - i * 8));
    masked[i] = (bytes[i] ?? 0) & ((0xff << (8 - left)) & 0xff);
  }
  // Family and prefix length go in too, so that 10.0.0.0/8 and an IPv6 address of zeros never meet.
  return createHmac('sha256', secret)
    .update(Buffer.from([bytes.length, bits]))
    .update(masked)
    .digest('base64url')
    .slice(0, 22);
}
