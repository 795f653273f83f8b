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
  /** SOFTWARE attribute of STUN responses. */
  stunSoftware: string;
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
  stunSoftware: 'buddylink',
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
        .filter((s) => s !== '');
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
