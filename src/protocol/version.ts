/** Version of the control protocol spoken over the WebSocket. Bumped on any incompatible change. */
export const PROTOCOL_VERSION = 1;

/** Limits every peer of the control channel can rely on. */
export const PROTOCOL_LIMITS = {
  /** Largest control frame, in bytes; larger frames are refused by the WebSocket layer. */
  maxMessageBytes: 16 * 1024,
  /** Longest user name. */
  maxUserLength: 32,
  /** Longest password accepted (scrypt input). */
  maxPasswordLength: 256,
  /** Most addresses in one address-exchange message. */
  maxAddresses: 8,
} as const;
