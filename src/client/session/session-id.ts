import { createHash } from 'node:crypto';

/**
 * A session's id: the initiator's nonce bound to both verified static keys. A path proven against
 * another key pair, or carrying another nonce, names another id, so it cannot join this session.
 */
export function sessionId(nonce: Buffer, initiatorKey: Buffer, responderKey: Buffer): string {
  return createHash('sha256')
    .update('buddylink session v1')
    .update(nonce)
    .update(initiatorKey)
    .update(responderKey)
    .digest('hex');
}
