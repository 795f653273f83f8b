import type { Endpoint } from '../protocol/index.js';
import type { BirthdayOptions } from './birthday/options.js';

/** Which path a connection took, in the order they are tried (§4.1: LAN → internet → relay). */
export type PathName = 'lan' | 'internet' | 'relay';

/** `auto` runs the seed's story with fall-back; a single path forces that path only. */
export type PathChoice = 'auto' | PathName;

/** `server` asks the one bit (S1–S4, the default); `client` runs the variant (S201–S211). */
export type JudgeChoice = 'server' | 'client';

/** Every timing a user might tune, with its default: the one place where these numbers live. */
export interface Timeouts {
  /** A control request without a reply by then fails. */
  requestTimeoutMs: number;
  /** Waiting for the buddy's answer to an address offer (one round trip through the server). */
  answerTimeoutMs: number;
  /** The whole LAN try: exchange, probing, handshake. */
  lanTimeoutMs: number;
  /** Dialling the answerer's TCP port (LAN, or a public answerer) before the UDX stream is used instead. */
  tcpDialTimeoutMs: number;
  /** The LAN try's head start before the internet try begins in parallel (auto, same NAT). */
  lanHeadStartMs: number;
  /** The whole internet try: STUN, exchange, hole punching, handshake. */
  internetTimeoutMs: number;
  /** The whole relay try: ticket, pairing, handshake. */
  relayTimeoutMs: number;
  /** Direct tries still running after this long get the relay racing beside them (auto). */
  relayHeadStartMs: number;
  /** One STUN Binding transaction (RFC 8489 §6.2.1 retransmits inside it). */
  stunTimeoutMs: number;
  /** Interval between hole-punching probes to each candidate address. */
  punchIntervalMs: number;
  /** How long a learnt global address is reused before STUN is asked again. */
  globalAddressTtlMs: number;
  /** An answering side forgets a session that was not chosen by then. */
  answerSessionTimeoutMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  requestTimeoutMs: 5000,
  answerTimeoutMs: 3000,
  lanTimeoutMs: 2500,
  tcpDialTimeoutMs: 500,
  lanHeadStartMs: 400,
  internetTimeoutMs: 5000,
  relayTimeoutMs: 6000,
  relayHeadStartMs: 2000,
  stunTimeoutMs: 1500,
  punchIntervalMs: 40,
  globalAddressTtlMs: 20_000,
  answerSessionTimeoutMs: 15_000,
};

/** Keeping peer streams and the control channel alive, and coming back after a loss. */
export interface Liveness {
  /** Empty encrypted frames on an idle peer stream, so NAT mappings stay open. */
  peerKeepAliveMs: number;
  /** A peer stream that hears nothing (not even keep-alives) for this long is closed. */
  peerIdleTimeoutMs: number;
  /** First reconnect delay after the control channel drops; doubles up to the maximum. */
  reconnectBaseMs: number;
  reconnectMaxMs: number;
}

export const DEFAULT_LIVENESS: Liveness = {
  peerKeepAliveMs: 5000,
  peerIdleTimeoutMs: 30_000,
  reconnectBaseMs: 500,
  reconnectMaxMs: 15_000,
};

/** The IANA STUN port (RFC 8489 §18.6): the port of a `stun` option without one, and of older servers. */
export const DEFAULT_STUN_PORT = 3478;

/** Prefix lengths for the variant's own comparison (S206); the server's defaults. */
export const DEFAULT_CLIENT_PREFIX = { v4: 32, v6: 64 } as const;

export interface ConnectOptions extends Partial<Timeouts> {
  path?: PathChoice;
  judge?: JudgeChoice;
  /** Prefix lengths for judge 'client'. */
  prefix?: { v4: number; v6: number };
  /** Cancels the connect: every try stops and the connect rejects (the client's close() does too). */
  signal?: AbortSignal;
}

/** How the client's one UDP socket is bound and which addresses it offers. */
export interface PeerSocketOptions {
  /** UDP port of the peer socket (STUN, punching and peer streams); 0 picks a free one. */
  udpPort?: number;
  /** Bind address of the peer socket; default: dual-stack `::`, else `0.0.0.0`. */
  udpHost?: string;
  /** Offer exactly these local addresses instead of the interfaces' (tests, multi-homed hosts). */
  localAddresses?: Endpoint[];
  /** Offer these global addresses too (a known port forward); STUN's answer is still offered. */
  extraGlobalAddresses?: Endpoint[];
  /**
   * STUN server `host:port` or `udp://host:port`; default: where the server's logon result says its
   * STUN answers (its host defaulting to the control server's), or port 3478 from older servers.
   */
  stun?: string;
  /**
   * Answer direct offers with a TCP port of our own for the session where TCP can reach us: on the
   * LAN, and on the internet when no NAT stands in front of us (default true). Off where policy
   * forbids listening on TCP; direct paths then run over the UDP socket (UDX) only.
   */
  tcp?: boolean;
  /**
   * Bounds of birthday punching (one side behind a symmetric NAT): side sockets, random probes,
   * rate, packet and time caps; defaults in src/client/birthday/options.ts.
   */
  birthday?: Partial<BirthdayOptions>;
}
