/**
 * Numbers fixed by RFC 8489 (STUN) and its registries. Nothing here is tunable: tunables live in
 * `options.ts`.
 */

/** RFC 8489 §5: the fixed value that tells STUN apart from other protocols on the same port. */
export const MAGIC_COOKIE = 0x2112a442;

/** RFC 8489 §5: 20-byte header (type, length, cookie, 96-bit transaction id). */
export const HEADER_LENGTH = 20;
export const TRANSACTION_ID_LENGTH = 12;

/** RFC 8489 §14: attribute header is type (2) + length (2); values are padded to 4 bytes. */
export const ATTRIBUTE_HEADER_LENGTH = 4;

/** RFC 8489 §14.5 and §14.7: sizes of the two trailing attributes including their headers. */
export const MESSAGE_INTEGRITY_LENGTH = 24;
export const FINGERPRINT_LENGTH = 8;

/** RFC 8489 §14.7: the CRC-32 is XORed with this ("STUN" in ASCII). */
export const FINGERPRINT_XOR = 0x5354554e;

/** RFC 8489 §5: the two class bits (C1 at bit 8, C0 at bit 4 of the message type). */
export const StunClass = {
  request: 0b00,
  indication: 0b01,
  successResponse: 0b10,
  errorResponse: 0b11,
} as const;
export type StunClass = (typeof StunClass)[keyof typeof StunClass];

/** RFC 8489 §18.2: the only method defined by STUN itself. */
export const StunMethod = {
  binding: 0x001,
} as const;

/** Message types that the server and client deal with, precomputed (method | class bits). */
export const BINDING_REQUEST = 0x0001;
export const BINDING_INDICATION = 0x0011;
export const BINDING_SUCCESS_RESPONSE = 0x0101;
export const BINDING_ERROR_RESPONSE = 0x0111;

/** RFC 8489 §18.3 (and RFC 8445, RFC 5780 for the ones a Binding request may legitimately carry). */
export const AttributeType = {
  mappedAddress: 0x0001,
  changeRequest: 0x0003, // RFC 5780 §7.2: change port is answered from the alternate port; change IP gets 420
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  unknownAttributes: 0x000a,
  realm: 0x0014,
  nonce: 0x0015,
  messageIntegritySha256: 0x001c,
  passwordAlgorithm: 0x001d,
  userhash: 0x001e,
  xorMappedAddress: 0x0020,
  priority: 0x0024, // RFC 8445 (ICE connectivity checks)
  useCandidate: 0x0025, // RFC 8445
  passwordAlgorithms: 0x8002,
  alternateDomain: 0x8003,
  software: 0x8022,
  alternateServer: 0x8023,
  fingerprint: 0x8028,
  iceControlled: 0x8029, // RFC 8445
  iceControlling: 0x802a, // RFC 8445
  responseOrigin: 0x802b, // RFC 5780 §7.3
  otherAddress: 0x802c, // RFC 5780 §7.4
} as const;

/**
 * RFC 8489 §14: types 0x0000–0x7FFF are comprehension-required; an agent that does not understand
 * one must reject the message (§6.3.1: a request gets a 420 answer).
 */
export function isComprehensionRequired(attributeType: number): boolean {
  return attributeType < 0x8000;
}

/** Comprehension-required attributes this implementation understands (or may safely ignore). */
const KNOWN_REQUIRED = new Set<number>([
  AttributeType.mappedAddress,
  AttributeType.username,
  AttributeType.messageIntegrity,
  AttributeType.errorCode,
  AttributeType.unknownAttributes,
  AttributeType.realm,
  AttributeType.nonce,
  AttributeType.messageIntegritySha256,
  AttributeType.passwordAlgorithm,
  AttributeType.userhash,
  AttributeType.xorMappedAddress,
  AttributeType.priority,
  AttributeType.useCandidate,
]);

export function isUnderstoodRequired(attributeType: number): boolean {
  return KNOWN_REQUIRED.has(attributeType);
}

/** RFC 8489 §14.1: address family codes in (XOR-)MAPPED-ADDRESS. */
export const AddressFamily = {
  ipv4: 0x01,
  ipv6: 0x02,
} as const;

/** RFC 8489 §14.8 / §15: error codes this implementation sends or names. */
export const ResponseErrorCode = {
  tryAlternate: 300,
  badRequest: 400,
  unauthenticated: 401,
  unknownAttribute: 420,
  staleNonce: 438,
  serverError: 500,
} as const;

/** RFC 8489 §14.9 and §14.3: maximum value lengths in bytes. */
export const MAX_SOFTWARE_BYTES = 763;
export const MAX_USERNAME_BYTES = 513;
export const MAX_REASON_PHRASE_BYTES = 763;
