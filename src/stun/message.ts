import {
  ATTRIBUTE_HEADER_LENGTH,
  AttributeType,
  FINGERPRINT_LENGTH,
  HEADER_LENGTH,
  isComprehensionRequired,
  isUnderstoodRequired,
  MAGIC_COOKIE,
  MESSAGE_INTEGRITY_LENGTH,
  type StunClass,
  TRANSACTION_ID_LENGTH,
} from './constants.js';
import { StunError } from './errors.js';
import { fingerprintOf, integrityMatches, messageIntegrityOf } from './integrity.js';

/** One attribute as received: `value` is a view into the packet (no copy), unpadded. */
export interface StunAttribute {
  readonly type: number;
  readonly value: Buffer;
  /** Offset of the attribute's header in the packet (MESSAGE-INTEGRITY needs it). */
  readonly offset: number;
}

/** A decoded STUN message (RFC 8489 §5, §14). */
export interface StunMessage {
  readonly type: number;
  readonly method: number;
  readonly messageClass: StunClass;
  readonly transactionId: Buffer;
  /** In packet order; attributes after MESSAGE-INTEGRITY other than FINGERPRINT/-SHA256 left out (§14.5). */
  readonly attributes: readonly StunAttribute[];
  /** Comprehension-required types we do not understand; a request carrying any gets a 420 (§6.3.1). */
  readonly unknownRequired: readonly number[];
  /** True when the message carried a FINGERPRINT; decoding has already checked it. */
  readonly hasFingerprint: boolean;
  readonly packet: Buffer;
}

/** RFC 8489 §5: the class bits are C1 (bit 8) and C0 (bit 4); the rest is the method. */
export function messageClassOf(type: number): StunClass {
  return (((type >> 7) & 0b10) | ((type >> 4) & 0b01)) as StunClass;
}

export function methodOf(type: number): number {
  return (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
}

export function messageType(method: number, messageClass: StunClass): number {
  return (
    (method & 0x000f) |
    ((method & 0x0070) << 1) |
    ((method & 0x0f80) << 2) |
    ((messageClass & 0b01) << 4) |
    ((messageClass & 0b10) << 7)
  );
}

const padded = (length: number): number => (length + 3) & ~3;

/**
 * Strict decoding of one UDP datagram (RFC 8489 §6.3): every length is checked against the
 * datagram, FINGERPRINT (if present) must be last and correct. Throws only `StunError`.
 */
export function decodeStunMessage(packet: Buffer): StunMessage {
  if (packet.length < HEADER_LENGTH) throw new StunError('STUN_TRUNCATED', 'shorter than a STUN header');
  const type = packet.readUInt16BE(0);
  if (type & 0xc000) throw new StunError('STUN_NOT_STUN', 'the two most significant bits are not zero');
  if (packet.readUInt32BE(4) !== MAGIC_COOKIE) throw new StunError('STUN_BAD_COOKIE', 'magic cookie missing');
  const length = packet.readUInt16BE(2);
  if (length % 4 !== 0) throw new StunError('STUN_BAD_LENGTH', 'message length is not a multiple of 4');
  if (HEADER_LENGTH + length > packet.length) {
    throw new StunError('STUN_TRUNCATED', 'datagram shorter than the announced message length');
  }
  if (HEADER_LENGTH + length < packet.length) {
    throw new StunError('STUN_BAD_LENGTH', 'datagram longer than the announced message length');
  }

  const attributes: StunAttribute[] = [];
  const unknownRequired: number[] = [];
  let hasFingerprint = false;
  let afterIntegrity = false;
  let offset = HEADER_LENGTH;
  while (offset < packet.length) {
    if (offset + ATTRIBUTE_HEADER_LENGTH > packet.length) {
      throw new StunError('STUN_BAD_ATTRIBUTE', 'attribute header overruns the message');
    }
    const attrType = packet.readUInt16BE(offset);
    const attrLength = packet.readUInt16BE(offset + 2);
    const valueStart = offset + ATTRIBUTE_HEADER_LENGTH;
    const next = valueStart + padded(attrLength);
    if (next > packet.length)
      throw new StunError('STUN_BAD_ATTRIBUTE', 'attribute value overruns the message');
    const value = packet.subarray(valueStart, valueStart + attrLength);

    if (attrType === AttributeType.fingerprint) {
      if (attrLength !== FINGERPRINT_LENGTH - ATTRIBUTE_HEADER_LENGTH || next !== packet.length) {
        throw new StunError('STUN_BAD_FINGERPRINT', 'FINGERPRINT must be 4 bytes and the last attribute');
      }
      if (value.readUInt32BE(0) !== fingerprintOf(packet, offset)) {
        throw new StunError('STUN_BAD_FINGERPRINT', 'FINGERPRINT does not match the message');
      }
      hasFingerprint = true;
      attributes.push({ type: attrType, value, offset });
    } else if (afterIntegrity && attrType !== AttributeType.messageIntegritySha256) {
      // §14.5: ignored, but still length-checked above so the walk stays in bounds.
    } else {
      if (attrType === AttributeType.messageIntegrity) {
        if (attrLength !== MESSAGE_INTEGRITY_LENGTH - ATTRIBUTE_HEADER_LENGTH) {
          throw new StunError('STUN_BAD_INTEGRITY', 'MESSAGE-INTEGRITY must be 20 bytes');
        }
        afterIntegrity = true;
      }
      if (isComprehensionRequired(attrType) && !isUnderstoodRequired(attrType))
        unknownRequired.push(attrType);
      attributes.push({ type: attrType, value, offset });
    }
    offset = next;
  }

  return {
    type,
    method: methodOf(type),
    messageClass: messageClassOf(type),
    transactionId: packet.subarray(8, 8 + TRANSACTION_ID_LENGTH),
    attributes,
    unknownRequired,
    hasFingerprint,
    packet,
  };
}

/** The same as `decodeStunMessage` but returns the typed error instead of throwing it. */
export function tryDecodeStunMessage(packet: Buffer): StunMessage | StunError {
  try {
    return decodeStunMessage(packet);
  } catch (error) {
    if (error instanceof StunError) return error;
    // Every check above raises StunError; anything else is a bug in this file, not bad input.
    return new StunError('STUN_BAD_ATTRIBUTE', 'undecodable message', { cause: error });
  }
}

/** First attribute of a type (§14: only the first occurrence needs to be processed). */
export function findAttribute(message: StunMessage, type: number): StunAttribute | undefined {
  for (const attribute of message.attributes) if (attribute.type === type) return attribute;
  return undefined;
}

/** §14.5: does MESSAGE-INTEGRITY verify with this key? False when the attribute is absent. */
export function verifyMessageIntegrity(message: StunMessage, key: Uint8Array): boolean {
  const attribute = findAttribute(message, AttributeType.messageIntegrity);
  if (!attribute) return false;
  return integrityMatches(message.packet, attribute.offset, attribute.value, key);
}

/** An attribute to send; the encoder adds header and padding. */
export interface OutgoingAttribute {
  readonly type: number;
  readonly value: Uint8Array;
}

export interface OutgoingMessage {
  readonly type: number;
  readonly transactionId: Uint8Array;
  readonly attributes: readonly OutgoingAttribute[];
}

export interface EncodeOptions {
  /** Adds MESSAGE-INTEGRITY keyed with this (RFC 8489 §14.5). */
  readonly integrityKey?: Uint8Array;
  /** Adds FINGERPRINT as the last attribute (RFC 8489 §14.7). */
  readonly fingerprint?: boolean;
}

/** Encodes a message; padding bytes are zero. Throws `StunError` on an impossible message. */
export function encodeStunMessage(message: OutgoingMessage, options: EncodeOptions = {}): Buffer {
  if (message.transactionId.length !== TRANSACTION_ID_LENGTH) {
    throw new StunError('STUN_BAD_ATTRIBUTE', 'transaction id must be 12 bytes');
  }
  let size = HEADER_LENGTH;
  for (const attribute of message.attributes) {
    if (attribute.value.length > 0xffff)
      throw new StunError('STUN_BAD_ATTRIBUTE', 'attribute value too long');
    size += ATTRIBUTE_HEADER_LENGTH + padded(attribute.value.length);
  }
  const integrityOffset = size;
  if (options.integrityKey) size += MESSAGE_INTEGRITY_LENGTH;
  const fingerprintOffset = size;
  if (options.fingerprint) size += FINGERPRINT_LENGTH;
  if (size - HEADER_LENGTH > 0xffff) throw new StunError('STUN_BAD_LENGTH', 'message too long');

  const packet = Buffer.alloc(size);
  packet.writeUInt16BE(message.type, 0);
  packet.writeUInt16BE(size - HEADER_LENGTH, 2);
  packet.writeUInt32BE(MAGIC_COOKIE, 4);
  packet.set(message.transactionId, 8);
  let offset = HEADER_LENGTH;
  for (const attribute of message.attributes) {
    packet.writeUInt16BE(attribute.type, offset);
    packet.writeUInt16BE(attribute.value.length, offset + 2);
    packet.set(attribute.value, offset + ATTRIBUTE_HEADER_LENGTH);
    offset += ATTRIBUTE_HEADER_LENGTH + padded(attribute.value.length);
  }
  if (options.integrityKey) {
    packet.writeUInt16BE(AttributeType.messageIntegrity, integrityOffset);
    packet.writeUInt16BE(MESSAGE_INTEGRITY_LENGTH - ATTRIBUTE_HEADER_LENGTH, integrityOffset + 2);
    packet.set(messageIntegrityOf(packet, integrityOffset, options.integrityKey), integrityOffset + 4);
  }
  if (options.fingerprint) {
    packet.writeUInt16BE(AttributeType.fingerprint, fingerprintOffset);
    packet.writeUInt16BE(FINGERPRINT_LENGTH - ATTRIBUTE_HEADER_LENGTH, fingerprintOffset + 2);
    packet.writeUInt32BE(fingerprintOf(packet, fingerprintOffset), fingerprintOffset + 4);
  }
  return packet;
}
