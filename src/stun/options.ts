/** Tunable STUN settings with their defaults, in one place. */
export const STUN_DEFAULTS = {
  /** SOFTWARE attribute of the server's answers (RFC 8489 §14.9); '' leaves it out. */
  software: 'buddylink',
  /** RFC 8489 §6.2.1: initial retransmission timeout for UDP (RTO). */
  rtoMs: 500,
  /** RFC 8489 §6.2.1: Rc, the number of requests sent in all before giving up. */
  requestCount: 7,
  /** RFC 8489 §6.2.1: Rm, the last request waits Rm × RTO for an answer. */
  lastWaitMultiplier: 16,
  /**
   * Kernel receive buffer of the server socket. A burst of Binding requests (many clients logging
   * on at once) should queue rather than be dropped while the event loop is busy.
   */
  serverReceiveBufferBytes: 4 * 1024 * 1024,
} as const;
