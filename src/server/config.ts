import { isIP } from 'node:net';
import { z } from 'zod';
import { PROTOCOL_LIMITS } from '../protocol/version.js';

/**
 * Every server option, its default, its flag and its environment variable: this file is the one place
 * where they live. `startServer()` takes a partial of ServerOptions (no environment, so tests stay hermetic);
 * the CLI layers defaults ← BUDDYLINK_* environment ← flags.
 */
export interface ServerOptions {
  /** Address of the WebSocket, STUN and HTTP listeners. `::` is dual stack (IPv4 and IPv6). */
  host: string;
  /** WebSocket port: the control channel and, on path /relay/<ticket>, the relay. 0 picks a free port. */
  port: number;
  /** UDP port of the RFC 8489 STUN server (S141–S143, §0093–0097). */
  stunPort: number;
  /**
   * Second STUN port on the same host, named in OTHER-ADDRESS, so clients can tell how their NAT
   * maps and filters (RFC 5780). -1: stunPort + 1 (a free port when stunPort is 0); 0 picks one.
   */
  stunAltPort: number;
  /** Answer on the second STUN port at all. */
  stunAlternate: boolean;
  /** HTTP port for /healthz and /metrics, kept off the client-facing port so it can stay firewalled. */
  httpPort: number;
  /** Directory of the SQLite file; null or ':memory:' keeps everything in memory (tests). */
  dataDir: string | null;
  /** IPv4 bits compared by the judgement (S23); below 32 treats a NAT's address pool as one NAT (§0067). */
  v4Prefix: number;
  /** IPv6 bits compared by the judgement; 64 means one LAN (SPEC §4.5). */
  v6Prefix: number;
  /** The variant (S201–S227): answer registeredAddress(buddy). Off by default: the 1-bit judgement is the product. */
  revealAddresses: boolean;
  /** The relay of last resort (SPEC §4.3). */
  relay: boolean;
  /** CIDRs of reverse proxies whose X-Forwarded-For is believed (SPEC §4.6). */
  trustProxy: string[];
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  logLevel: string;
  /** Lifetime of a session token issued at logon. */
  tokenTtlSeconds: number;
  /** Largest control message answered normally; larger ones get TOO_LARGE. */
  maxMessageBytes: number;
  /** Hard ceiling of a control frame (ws maxPayload): beyond it the connection is closed with 1009. */
  maxFrameBytes: number;
  /** Sustained control requests per second per connection (token bucket refill). */
  messagesPerSecond: number;
  /** Burst of control requests per connection (token bucket size). */
  messageBurst: number;
  /** Requests queued or in progress per connection; beyond it RATE_LIMITED. */
  maxPending: number;
  /** Refused messages (bad, oversized, rate limited) a connection may send before it is closed. */
  abuseStrikes: number;
  /** Strikes forgiven per second, so that an occasional mistake never adds up to a close. */
  abuseForgivenPerSecond: number;
  /** How long a relay ticket waits for the buddy's side before it expires. */
  relayTicketTtlSeconds: number;
  /** Bytes one relay session may forward in total (both directions). */
  relayMaxBytes: number;
  /** Sustained relay bytes per second per session; the burst is one second's worth. */
  relayBytesPerSecond: number;
  /** Largest binary frame on a relay socket (ws maxPayload). */
  relayMaxFrameBytes: number;
  /** Relay sessions (paired or waiting) one user may hold at once. */
  relaySessionsPerUser: number;
  /** WebSocket ping interval; a socket that misses one ping is cut, so a vanished device goes offline. */
  heartbeatSeconds: number;
  /** Time given to clients to read the shutdown event before sockets are cut. */
  shutdownGraceMs: number;
  /** SOFTWARE attribute of STUN responses; empty (the default) sends none, keeping answers small. */
  stunSoftware: string;
  // Hardening (issue 14): limits an attacker on the open internet meets. Counted in src/server/limits/.
  /**
   * Sources (CIDRs) no per-source limit applies to: by default the loopback addresses 127.0.0.1 and ::1,
   * where a local reverse proxy or the operator's own tools connect from. Empty: every source is limited.
   */
  limitExemptSources: string[];
  /** Open TCP connections to the WebSocket port per source (an IPv4 address or an IPv6 /64). */
  maxConnectionsPerSource: number;
  /** Connections, server-wide, that have not finished their WebSocket upgrade; beyond, new ones are cut. */
  maxPendingUpgrades: number;
  /** Time a connection has to finish its WebSocket upgrade (slow-loris headers). */
  upgradeTimeoutSeconds: number;
  /** Time a control connection has to log on (or create an account) before it is closed. */
  logonDeadlineSeconds: number;
  /** Failed password logons of one account within the window before back-off starts. */
  logonFailuresPerAccount: number;
  /** Failed logons from one source within the window before back-off starts. */
  logonFailuresPerSource: number;
  /** Window over which failed logons are counted. */
  logonFailureWindowSeconds: number;
  /** First back-off after the free failures; doubles with each further failure. */
  logonBackoffSeconds: number;
  /** Longest back-off. */
  logonBackoffMaxSeconds: number;
  /** Accounts one source may create within accountWindowSeconds. */
  accountsPerSource: number;
  /** Window of accountsPerSource. */
  accountWindowSeconds: number;
  /** account.create is allowed; off: FORBIDDEN, accounts come from the operator (`buddylink server`… tooling). */
  registration: boolean;
  /** buddy.request answers an unknown or blocking user exactly as an existing one (`requested`). */
  enumerationSafe: boolean;
  /** New buddy requests one user may send within buddyRequestWindowSeconds. */
  buddyRequestsPerUser: number;
  /** Window of buddyRequestsPerUser. */
  buddyRequestWindowSeconds: number;
  /** After a decline or a withdrawal, the same request is not shown to the target again for this long. */
  buddyRequestCooloffSeconds: number;
  /** Relay bytes one user may send within relayQuotaWindowSeconds, over all its sessions (coturn user-quota). */
  relayUserQuotaBytes: number;
  /** Window of relayUserQuotaBytes. */
  relayQuotaWindowSeconds: number;
  /** A paired relay session with no byte in either direction for this long is closed. */
  relayIdleSeconds: number;
  /** Longest life of a relay session (coturn: allocation lifetime); the clients open a new one. */
  relayMaxLifetimeSeconds: number;
  /** STUN requests per second per source (an IPv4 address or an IPv6 /64); beyond, dropped. */
  stunRequestsPerSecond: number;
  /** STUN burst per source. */
  stunBurst: number;
  /** Also send MAPPED-ADDRESS (RFC 3489-era clients without XOR-MAPPED-ADDRESS); off keeps answers small. */
  stunMappedAddress: boolean;
  /** Several nodes (SPEC §4.8): accounts and relations in this PostgreSQL instead of SQLite. With `redis`. */
  postgres: string | null;
  /** Several nodes: who is online, presence and signals through this Redis. With `postgres`. */
  redis: string | null;
  /** This node's name among the nodes; null: generated at start. */
  nodeId: string | null;
  /** Where other nodes reach this node's WebSocket port (relay forwarding); null: the listening URL. */
  nodeUrl: string | null;
  /** Shared by all nodes: keys the address tags in Redis (at least 16 characters). Required with redis. */
  clusterSecret: string | null;
  /** Prefix of every Redis key and channel, so that deployments (and test runs) can share a Redis. */
  clusterPrefix: string;
  /** An online entry not refreshed by its node for this long is offline (a dead node's users). */
  onlineTtlSeconds: number;
}

export const DEFAULT_OPTIONS: ServerOptions = {
  host: '::',
  port: 7070,
  stunPort: 3478,
  stunAltPort: -1,
  stunAlternate: true,
  httpPort: 7071,
  dataDir: './buddylink-data',
  v4Prefix: 32,
  v6Prefix: 64,
  revealAddresses: false,
  relay: true,
  trustProxy: [],
  logLevel: 'info',
  tokenTtlSeconds: 30 * 24 * 3600,
  maxMessageBytes: PROTOCOL_LIMITS.maxMessageBytes,
  maxFrameBytes: 4 * PROTOCOL_LIMITS.maxMessageBytes,
  messagesPerSecond: 20,
  messageBurst: 40,
  maxPending: 16,
  abuseStrikes: 30,
  abuseForgivenPerSecond: 1,
  relayTicketTtlSeconds: 30,
  relayMaxBytes: 256 * 1024 * 1024,
  relayBytesPerSecond: 8 * 1024 * 1024,
  relayMaxFrameBytes: 256 * 1024,
  relaySessionsPerUser: 8,
  heartbeatSeconds: 30,
  shutdownGraceMs: 200,
  stunSoftware: '',
  limitExemptSources: ['127.0.0.1', '::1'],
  maxConnectionsPerSource: 128,
  maxPendingUpgrades: 256,
  upgradeTimeoutSeconds: 10,
  logonDeadlineSeconds: 30,
  logonFailuresPerAccount: 5,
  logonFailuresPerSource: 20,
  logonFailureWindowSeconds: 15 * 60,
  logonBackoffSeconds: 2,
  logonBackoffMaxSeconds: 15 * 60,
  accountsPerSource: 5,
  accountWindowSeconds: 3600,
  registration: true,
  enumerationSafe: true,
  buddyRequestsPerUser: 20,
  buddyRequestWindowSeconds: 3600,
  buddyRequestCooloffSeconds: 24 * 3600,
  relayUserQuotaBytes: 1024 * 1024 * 1024,
  relayQuotaWindowSeconds: 3600,
  relayIdleSeconds: 120,
  relayMaxLifetimeSeconds: 4 * 3600,
  stunRequestsPerSecond: 50,
  stunBurst: 200,
  stunMappedAddress: false,
  postgres: null,
  redis: null,
  nodeId: null,
  nodeUrl: null,
  clusterSecret: null,
  clusterPrefix: 'buddylink:',
  onlineTtlSeconds: 15,
};

type OptionKind = 'string' | 'int' | 'bool' | 'list' | 'dir';

export interface OptionSpec {
  /** commander flag text; booleans that default to true are negated (`--no-relay`). */
  flag: string;
  env: string;
  kind: OptionKind;
  description: string;
}

/** Flag and environment variable of each option; the CLI builds its flags from this table. */
export const OPTION_SPECS: { [K in keyof ServerOptions]: OptionSpec } = {
  host: { flag: '--host <host>', env: 'BUDDYLINK_HOST', kind: 'string', description: 'listen address' },
  port: { flag: '--port <n>', env: 'BUDDYLINK_PORT', kind: 'int', description: 'WebSocket port' },
  stunPort: {
    flag: '--stun-port <n>',
    env: 'BUDDYLINK_STUN_PORT',
    kind: 'int',
    description: 'STUN UDP port',
  },
  stunAltPort: {
    flag: '--stun-alt-port <n>',
    env: 'BUDDYLINK_STUN_ALT_PORT',
    kind: 'int',
    description: 'second STUN UDP port for NAT behaviour discovery (RFC 5780); -1: STUN port + 1',
  },
  stunAlternate: {
    flag: '--no-stun-alternate',
    env: 'BUDDYLINK_STUN_ALTERNATE',
    kind: 'bool',
    description: 'do not answer STUN on a second port',
  },
  httpPort: {
    flag: '--http-port <n>',
    env: 'BUDDYLINK_HTTP_PORT',
    kind: 'int',
    description: 'HTTP port for /healthz and /metrics',
  },
  dataDir: {
    flag: '--data <dir>',
    env: 'BUDDYLINK_DATA',
    kind: 'dir',
    description: "data directory (':memory:' for none)",
  },
  v4Prefix: {
    flag: '--v4-prefix <n>',
    env: 'BUDDYLINK_V4_PREFIX',
    kind: 'int',
    description: 'IPv4 mask bits',
  },
  v6Prefix: {
    flag: '--v6-prefix <n>',
    env: 'BUDDYLINK_V6_PREFIX',
    kind: 'int',
    description: 'IPv6 mask bits',
  },
  revealAddresses: {
    flag: '--reveal-addresses',
    env: 'BUDDYLINK_REVEAL_ADDRESSES',
    kind: 'bool',
    description: "answer registeredAddress(buddy) (the seed's variant)",
  },
  relay: { flag: '--no-relay', env: 'BUDDYLINK_RELAY', kind: 'bool', description: 'switch the relay off' },
  trustProxy: {
    flag: '--trust-proxy <cidr...>',
    env: 'BUDDYLINK_TRUST_PROXY',
    kind: 'list',
    description: 'reverse proxies whose X-Forwarded-For is believed (env: comma-separated)',
  },
  logLevel: {
    flag: '--log-level <level>',
    env: 'BUDDYLINK_LOG_LEVEL',
    kind: 'string',
    description: 'pino level',
  },
  tokenTtlSeconds: {
    flag: '--token-ttl <seconds>',
    env: 'BUDDYLINK_TOKEN_TTL',
    kind: 'int',
    description: 'session token lifetime',
  },
  maxMessageBytes: {
    flag: '--max-message-bytes <n>',
    env: 'BUDDYLINK_MAX_MESSAGE_BYTES',
    kind: 'int',
    description: 'largest control message',
  },
  maxFrameBytes: {
    flag: '--max-frame-bytes <n>',
    env: 'BUDDYLINK_MAX_FRAME_BYTES',
    kind: 'int',
    description: 'control frame size that closes the connection',
  },
  messagesPerSecond: {
    flag: '--messages-per-second <n>',
    env: 'BUDDYLINK_MESSAGES_PER_SECOND',
    kind: 'int',
    description: 'control request rate per connection',
  },
  messageBurst: {
    flag: '--message-burst <n>',
    env: 'BUDDYLINK_MESSAGE_BURST',
    kind: 'int',
    description: 'control request burst per connection',
  },
  maxPending: {
    flag: '--max-pending <n>',
    env: 'BUDDYLINK_MAX_PENDING',
    kind: 'int',
    description: 'pending requests per connection',
  },
  abuseStrikes: {
    flag: '--abuse-strikes <n>',
    env: 'BUDDYLINK_ABUSE_STRIKES',
    kind: 'int',
    description: 'refused messages before a connection is closed',
  },
  abuseForgivenPerSecond: {
    flag: '--abuse-forgiven-per-second <n>',
    env: 'BUDDYLINK_ABUSE_FORGIVEN_PER_SECOND',
    kind: 'int',
    description: 'strikes forgiven per second',
  },
  relayTicketTtlSeconds: {
    flag: '--relay-ticket-ttl <seconds>',
    env: 'BUDDYLINK_RELAY_TICKET_TTL',
    kind: 'int',
    description: 'unpaired relay ticket lifetime',
  },
  relayMaxBytes: {
    flag: '--relay-max-bytes <n>',
    env: 'BUDDYLINK_RELAY_MAX_BYTES',
    kind: 'int',
    description: 'bytes per relay session',
  },
  relayBytesPerSecond: {
    flag: '--relay-bytes-per-second <n>',
    env: 'BUDDYLINK_RELAY_BYTES_PER_SECOND',
    kind: 'int',
    description: 'relay rate per session',
  },
  relayMaxFrameBytes: {
    flag: '--relay-max-frame-bytes <n>',
    env: 'BUDDYLINK_RELAY_MAX_FRAME_BYTES',
    kind: 'int',
    description: 'largest relay frame',
  },
  relaySessionsPerUser: {
    flag: '--relay-sessions-per-user <n>',
    env: 'BUDDYLINK_RELAY_SESSIONS_PER_USER',
    kind: 'int',
    description: 'relay sessions per user',
  },
  heartbeatSeconds: {
    flag: '--heartbeat <seconds>',
    env: 'BUDDYLINK_HEARTBEAT',
    kind: 'int',
    description: 'WebSocket ping interval',
  },
  shutdownGraceMs: {
    flag: '--shutdown-grace-ms <n>',
    env: 'BUDDYLINK_SHUTDOWN_GRACE_MS',
    kind: 'int',
    description: 'time clients get to read the shutdown event',
  },
  stunSoftware: {
    flag: '--stun-software <text>',
    env: 'BUDDYLINK_STUN_SOFTWARE',
    kind: 'string',
    description: 'STUN SOFTWARE attribute',
  },
  limitExemptSources: {
    flag: '--limit-exempt <cidr...>',
    env: 'BUDDYLINK_LIMIT_EXEMPT',
    kind: 'list',
    description: 'sources no per-source limit applies to (env: comma-separated; "none" for none)',
  },
  maxConnectionsPerSource: {
    flag: '--max-connections-per-source <n>',
    env: 'BUDDYLINK_MAX_CONNECTIONS_PER_SOURCE',
    kind: 'int',
    description: 'TCP connections per IPv4 address or IPv6 /64',
  },
  maxPendingUpgrades: {
    flag: '--max-pending-upgrades <n>',
    env: 'BUDDYLINK_MAX_PENDING_UPGRADES',
    kind: 'int',
    description: 'connections still upgrading, server-wide',
  },
  upgradeTimeoutSeconds: {
    flag: '--upgrade-timeout <seconds>',
    env: 'BUDDYLINK_UPGRADE_TIMEOUT',
    kind: 'int',
    description: 'time to finish the WebSocket upgrade',
  },
  logonDeadlineSeconds: {
    flag: '--logon-deadline <seconds>',
    env: 'BUDDYLINK_LOGON_DEADLINE',
    kind: 'int',
    description: 'time to log on before the connection is closed',
  },
  logonFailuresPerAccount: {
    flag: '--logon-failures-per-account <n>',
    env: 'BUDDYLINK_LOGON_FAILURES_PER_ACCOUNT',
    kind: 'int',
    description: 'failed logons per account before back-off',
  },
  logonFailuresPerSource: {
    flag: '--logon-failures-per-source <n>',
    env: 'BUDDYLINK_LOGON_FAILURES_PER_SOURCE',
    kind: 'int',
    description: 'failed logons per source before back-off',
  },
  logonFailureWindowSeconds: {
    flag: '--logon-failure-window <seconds>',
    env: 'BUDDYLINK_LOGON_FAILURE_WINDOW',
    kind: 'int',
    description: 'window of failed logons',
  },
  logonBackoffSeconds: {
    flag: '--logon-backoff <seconds>',
    env: 'BUDDYLINK_LOGON_BACKOFF',
    kind: 'int',
    description: 'first back-off, doubling',
  },
  logonBackoffMaxSeconds: {
    flag: '--logon-backoff-max <seconds>',
    env: 'BUDDYLINK_LOGON_BACKOFF_MAX',
    kind: 'int',
    description: 'longest back-off',
  },
  accountsPerSource: {
    flag: '--accounts-per-source <n>',
    env: 'BUDDYLINK_ACCOUNTS_PER_SOURCE',
    kind: 'int',
    description: 'accounts one source may create per window',
  },
  accountWindowSeconds: {
    flag: '--account-window <seconds>',
    env: 'BUDDYLINK_ACCOUNT_WINDOW',
    kind: 'int',
    description: 'window of accounts per source',
  },
  registration: {
    flag: '--no-registration',
    env: 'BUDDYLINK_REGISTRATION',
    kind: 'bool',
    description: 'refuse account.create (closed registration)',
  },
  enumerationSafe: {
    flag: '--no-enumeration-safe',
    env: 'BUDDYLINK_ENUMERATION_SAFE',
    kind: 'bool',
    description: 'tell a requester that a user does not exist',
  },
  buddyRequestsPerUser: {
    flag: '--buddy-requests-per-user <n>',
    env: 'BUDDYLINK_BUDDY_REQUESTS_PER_USER',
    kind: 'int',
    description: 'buddy requests per user per window',
  },
  buddyRequestWindowSeconds: {
    flag: '--buddy-request-window <seconds>',
    env: 'BUDDYLINK_BUDDY_REQUEST_WINDOW',
    kind: 'int',
    description: 'window of buddy requests',
  },
  buddyRequestCooloffSeconds: {
    flag: '--buddy-request-cooloff <seconds>',
    env: 'BUDDYLINK_BUDDY_REQUEST_COOLOFF',
    kind: 'int',
    description: 'quiet time after a decline or withdrawal',
  },
  relayUserQuotaBytes: {
    flag: '--relay-user-quota <bytes>',
    env: 'BUDDYLINK_RELAY_USER_QUOTA',
    kind: 'int',
    description: 'relay bytes per user per window',
  },
  relayQuotaWindowSeconds: {
    flag: '--relay-quota-window <seconds>',
    env: 'BUDDYLINK_RELAY_QUOTA_WINDOW',
    kind: 'int',
    description: 'window of the relay quota',
  },
  relayIdleSeconds: {
    flag: '--relay-idle <seconds>',
    env: 'BUDDYLINK_RELAY_IDLE',
    kind: 'int',
    description: 'idle relay session timeout',
  },
  relayMaxLifetimeSeconds: {
    flag: '--relay-max-lifetime <seconds>',
    env: 'BUDDYLINK_RELAY_MAX_LIFETIME',
    kind: 'int',
    description: 'longest relay session',
  },
  stunRequestsPerSecond: {
    flag: '--stun-requests-per-second <n>',
    env: 'BUDDYLINK_STUN_REQUESTS_PER_SECOND',
    kind: 'int',
    description: 'STUN requests per second per source',
  },
  stunBurst: {
    flag: '--stun-burst <n>',
    env: 'BUDDYLINK_STUN_BURST',
    kind: 'int',
    description: 'STUN burst per source',
  },
  stunMappedAddress: {
    flag: '--stun-mapped-address',
    env: 'BUDDYLINK_STUN_MAPPED_ADDRESS',
    kind: 'bool',
    description: 'also send MAPPED-ADDRESS (old clients)',
  },
  postgres: {
    flag: '--postgres <url>',
    env: 'BUDDYLINK_POSTGRES',
    kind: 'string',
    description: 'several nodes: PostgreSQL URL for accounts and buddies (with --redis)',
  },
  redis: {
    flag: '--redis <url>',
    env: 'BUDDYLINK_REDIS',
    kind: 'string',
    description: 'several nodes: Redis URL for who is online and signals (with --postgres)',
  },
  nodeId: {
    flag: '--node-id <id>',
    env: 'BUDDYLINK_NODE_ID',
    kind: 'string',
    description: "this node's name",
  },
  nodeUrl: {
    flag: '--node-url <url>',
    env: 'BUDDYLINK_NODE_URL',
    kind: 'string',
    description: 'several nodes: ws://host:port where the other nodes reach this one',
  },
  clusterSecret: {
    flag: '--cluster-secret <secret>',
    env: 'BUDDYLINK_CLUSTER_SECRET',
    kind: 'string',
    description: 'secret shared by the nodes (prefer the environment variable)',
  },
  clusterPrefix: {
    flag: '--cluster-prefix <prefix>',
    env: 'BUDDYLINK_CLUSTER_PREFIX',
    kind: 'string',
    description: 'prefix of Redis keys and channels',
  },
  onlineTtlSeconds: {
    flag: '--online-ttl <seconds>',
    env: 'BUDDYLINK_ONLINE_TTL',
    kind: 'int',
    description: "several nodes: a dead node's users are offline after this",
  },
};

const port = z.number().int().min(0).max(65535);
const count = z.number().int().min(1);
const cidr = z.string().refine(isCidr, 'IP address or CIDR');

const optionsSchema = z
  .object({
    host: z.string().refine((h) => isIP(h) !== 0 || h === 'localhost', 'IP address literal'),
    port,
    stunPort: port,
    stunAltPort: z.number().int().min(-1).max(65535),
    stunAlternate: z.boolean(),
    httpPort: port,
    dataDir: z.string().min(1).nullable(),
    v4Prefix: z.number().int().min(0).max(32),
    v6Prefix: z.number().int().min(0).max(128),
    revealAddresses: z.boolean(),
    relay: z.boolean(),
    trustProxy: z.array(cidr),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    tokenTtlSeconds: count,
    maxMessageBytes: count,
    maxFrameBytes: count,
    messagesPerSecond: count,
    messageBurst: count,
    maxPending: count,
    abuseStrikes: count,
    abuseForgivenPerSecond: z.number().min(0),
    relayTicketTtlSeconds: z.number().positive(),
    relayMaxBytes: count,
    relayBytesPerSecond: count,
    relayMaxFrameBytes: count,
    relaySessionsPerUser: count,
    heartbeatSeconds: z.number().positive(),
    shutdownGraceMs: z.number().int().min(0),
    stunSoftware: z.string().max(127),
    limitExemptSources: z.array(cidr),
    maxConnectionsPerSource: count,
    maxPendingUpgrades: count,
    upgradeTimeoutSeconds: z.number().positive(),
    logonDeadlineSeconds: z.number().positive(),
    logonFailuresPerAccount: count,
    logonFailuresPerSource: count,
    logonFailureWindowSeconds: z.number().positive(),
    logonBackoffSeconds: z.number().positive(),
    logonBackoffMaxSeconds: z.number().positive(),
    accountsPerSource: count,
    accountWindowSeconds: z.number().positive(),
    registration: z.boolean(),
    enumerationSafe: z.boolean(),
    buddyRequestsPerUser: count,
    buddyRequestWindowSeconds: z.number().positive(),
    buddyRequestCooloffSeconds: z.number().min(0),
    relayUserQuotaBytes: count,
    relayQuotaWindowSeconds: z.number().positive(),
    relayIdleSeconds: z.number().positive(),
    relayMaxLifetimeSeconds: z.number().positive(),
    stunRequestsPerSecond: z.number().positive(),
    stunBurst: count,
    stunMappedAddress: z.boolean(),
    postgres: z.string().min(1).nullable(),
    redis: z.string().min(1).nullable(),
    nodeId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-"')
      .nullable(),
    nodeUrl: z
      .string()
      .regex(/^wss?:\/\/[^/\s]+$/, 'ws://host:port')
      .nullable(),
    clusterSecret: z.string().min(16, 'at least 16 characters').nullable(),
    clusterPrefix: z.string().max(64),
    onlineTtlSeconds: z.number().positive(),
  })
  .strict()
  .refine(
    (o) => (o.postgres === null) === (o.redis === null),
    'postgres and redis go together (both or neither)',
  )
  .refine((o) => o.redis === null || o.clusterSecret !== null, 'several nodes need clusterSecret')
  .refine((o) => o.maxFrameBytes >= o.maxMessageBytes, 'maxFrameBytes must be at least maxMessageBytes');

/** Defaults overlaid with `partial`, validated; throws a readable error on a bad option. */
export function resolveOptions(partial: Partial<ServerOptions> = {}): ServerOptions {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const parsed = optionsSchema.safeParse({ ...DEFAULT_OPTIONS, ...defined });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TypeError(`bad server option ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** The options set through BUDDYLINK_* variables, parsed by kind; unset variables are left out. */
export function optionsFromEnv(env: NodeJS.ProcessEnv): Partial<ServerOptions> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(OPTION_SPECS)) {
    const text = env[spec.env];
    if (text === undefined || text === '') continue;
    out[key] = parseOptionText(spec.kind, text, spec.env);
  }
  // --no-relay also reads as BUDDYLINK_NO_RELAY=1, since people write the variable after the flag.
  const noRelay = env.BUDDYLINK_NO_RELAY;
  if (noRelay !== undefined && noRelay !== '') out.relay = !parseBool(noRelay, 'BUDDYLINK_NO_RELAY');
  return out as Partial<ServerOptions>;
}

export function parseOptionText(kind: OptionKind, text: string, name: string): unknown {
  switch (kind) {
    case 'string':
      return text;
    case 'dir':
      return text === ':memory:' ? null : text;
    case 'int': {
      const n = Number(text);
      if (!Number.isFinite(n)) throw new TypeError(`${name}: not a number: ${text}`);
      return n;
    }
    case 'bool':
      return parseBool(text, name);
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '' && s !== 'none');
  }
}

function parseBool(text: string, name: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  throw new TypeError(`${name}: expected true or false, got ${text}`);
}

function isCidr(text: string): boolean {
  const [ip, bits, extra] = text.split('/');
  if (ip === undefined || extra !== undefined) return false;
  const family = isIP(ip);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return Number.isInteger(n) && n >= 0 && n <= (family === 4 ? 32 : 128);
}
