import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Endpoint } from '../protocol/fields.js';
import { deviceName, userName } from '../protocol/fields.js';
import { ServiceUnavailableError } from '../store/errors.js';
import type { DeviceRegistration, OnlineDevice, OnlineRegistry } from '../store/online.js';

/**
 * One device as every node sees it in Redis: no address, only the keyed tag of its masked address
 * (nat-tag.ts). Parsed with a schema on read: Redis is shared state, not trusted input.
 */
const sharedDevice = z
  .object({
    user: userName,
    node: z.string().min(1).max(64),
    conn: z.string().min(1).max(64),
    device: deviceName,
    listen: z.boolean(),
    natTag: z.string().max(64),
    seq: z.number().int(),
    expiresAt: z.number(),
  })
  .strict();
type SharedDevice = z.infer<typeof sharedDevice>;

/** An OnlineDevice that may live on another node: then it carries the tag and no address. */
export interface ClusterDevice extends OnlineDevice {
  node: string;
  natTag: string;
}

export interface RedisOnlineOptions {
  redis: Redis;
  /** Prefix of every key, unique to the deployment (and to a test run). */
  prefix: string;
  nodeId: string;
  /** Entries not refreshed by their node within this time are offline. */
  ttlMs: number;
  /** The tag of a registered address (nat-tag.ts with the cluster secret and the operator's masks). */
  tagOf: (address: Endpoint) => string;
}

// Keys: {p}u:{user} hash conn → device JSON; {p}expiry zset "user conn" → expiresAt; {p}seq counter.
// A live entry is one whose expiresAt is in the future; expired ones are reaped (reap below).
const LIVE_COUNT = `
local function live(key, now)
  local n = 0
  for _, v in ipairs(redis.call('HVALS', key)) do
    if cjson.decode(v).expiresAt > now then n = n + 1 end
  end
  return n
end`;

// Adds a device, named uniquely among the user's live devices (name-2, name-3… as on one node: device
// names are ASCII, so byte lengths are character lengths), in one round trip.
const ADD_SCRIPT = `
local now = tonumber(ARGV[3])
local taken = {}
local before = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
  local d = cjson.decode(v)
  if d.expiresAt > now then
    before = before + 1
    taken[d.device] = true
  end
end
local entry = cjson.decode(ARGV[2])
if taken[entry.device] then
  local n = 2
  while true do
    local suffix = '-' .. n
    local candidate = string.sub(entry.device, 1, 64 - #suffix) .. suffix
    if not taken[candidate] then entry.device = candidate break end
    n = n + 1
  end
end
entry.seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[6])
return {entry.seq, before == 0 and 1 or 0, entry.device}`;

const REMOVE_SCRIPT = `${LIVE_COUNT}
local had = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
if had == 0 then return -1 end
return live(KEYS[1], tonumber(ARGV[3])) == 0 and 1 or 0`;

// Reaps entries whose node stopped refreshing them; returns the users who went offline with it.
// Whoever's ZREM wins reaps an entry, so that each offline event is announced once.
const REAP_SCRIPT = `${LIVE_COUNT}
local now = tonumber(ARGV[1])
local gone = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
  if redis.call('ZREM', KEYS[1], member) == 1 then
    local space = string.find(member, ' ', 1, true)
    local user = string.sub(member, 1, space - 1)
    local key = ARGV[3] .. 'u:' .. user
    local had = redis.call('HDEL', key, string.sub(member, space + 1))
    if had == 1 and live(key, now) == 0 then table.insert(gone, user) end
  end
end
return gone`;

const REFRESH_SCRIPT = `
local entry = redis.call('HGET', KEYS[1], ARGV[1])
local parsed = entry and cjson.decode(entry) or cjson.decode(ARGV[3])
parsed.expiresAt = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(parsed))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[5])
return 1`;

const SCRIPT_SHA = new Map<string, string>();

interface LocalDevice {
  shared: SharedDevice;
  registeredAddress: Endpoint;
}

/**
 * The OnlineRegistry of several nodes on one Redis (SPEC §4.8). The owning node keeps each entry alive
 * by refreshing it every third of the TTL; a node that dies stops refreshing and its users go offline by
 * themselves (any node's reaper removes the entries and announces it). The registered address itself
 * stays in this node's memory: other nodes see the tag only.
 */
export class RedisOnlineRegistry implements OnlineRegistry {
  readonly #o: RedisOnlineOptions;
  readonly #local = new Map<string, LocalDevice>();

  constructor(options: RedisOnlineOptions) {
    this.#o = options;
  }

  /** Devices of this node. */
  get localCount(): number {
    return this.#local.size;
  }

  async addDevice(r: DeviceRegistration): Promise<{ device: OnlineDevice; firstDevice: boolean }> {
    if (this.#local.has(r.connectionId)) await this.removeDevice(r.connectionId);
    const now = Date.now();
    const shared: SharedDevice = {
      user: r.user,
      node: this.#o.nodeId,
      conn: r.connectionId,
      device: r.requestedDevice,
      listen: r.listen,
      natTag: this.#o.tagOf(r.registeredAddress),
      seq: 0,
      expiresAt: now + this.#o.ttlMs,
    };
    const [seq, first, device] = (await this.#call(() =>
      this.#script(
        ADD_SCRIPT,
        3,
        this.#userKey(r.user),
        this.#expiryKey(),
        `${this.#o.prefix}seq`,
        r.connectionId,
        JSON.stringify(shared),
        String(now),
        String(shared.expiresAt),
        String(this.#o.ttlMs * 4),
        member(r.user, r.connectionId),
      ),
    )) as [number, number, string];
    shared.seq = seq;
    shared.device = device;
    this.#local.set(r.connectionId, { shared, registeredAddress: { ...r.registeredAddress } });
    return { device: this.#toDevice(shared), firstDevice: first === 1 };
  }

  async removeDevice(
    connectionId: string,
  ): Promise<{ device: OnlineDevice; lastDevice: boolean } | undefined> {
    const local = this.#local.get(connectionId);
    if (!local) return undefined;
    this.#local.delete(connectionId);
    const last = (await this.#call(() =>
      this.#script(
        REMOVE_SCRIPT,
        2,
        this.#userKey(local.shared.user),
        this.#expiryKey(),
        connectionId,
        member(local.shared.user, connectionId),
        String(Date.now()),
      ),
    )) as number;
    // -1: the entry had already been reaped (this node was cut off too long); its offline was told then.
    return { device: this.#toDevice(local.shared, local.registeredAddress), lastDevice: last === 1 };
  }

  async devicesOf(user: string): Promise<OnlineDevice[]> {
    const entries = await this.#call(() => this.#o.redis.hvals(this.#userKey(user)));
    const now = Date.now();
    const out: ClusterDevice[] = [];
    for (const text of entries) {
      const parsed = sharedDevice.safeParse(safeJson(text));
      if (!parsed.success || parsed.data.user !== user || parsed.data.expiresAt <= now) continue;
      out.push(this.#toDevice(parsed.data));
    }
    return out.sort((a, b) => b.logonSequence - a.logonSequence);
  }

  async isOnline(user: string): Promise<boolean> {
    return (await this.devicesOf(user)).length > 0;
  }

  /** Devices of this node: the per-node gauge. */
  async deviceCount(): Promise<number> {
    return this.#local.size;
  }

  /**
   * Pushes every local entry's expiry forward, and writes it whole again if Redis lost it (a restart
   * without persistence): so the registry heals itself within one refresh.
   */
  async refresh(): Promise<void> {
    const expiresAt = Date.now() + this.#o.ttlMs;
    const pipeline = this.#o.redis.pipeline();
    for (const [conn, { shared }] of this.#local) {
      shared.expiresAt = expiresAt;
      pipeline.eval(
        REFRESH_SCRIPT,
        2,
        this.#userKey(shared.user),
        this.#expiryKey(),
        conn,
        String(expiresAt),
        JSON.stringify(shared),
        String(this.#o.ttlMs * 4),
        member(shared.user, conn),
      );
    }
    const results = await this.#call(() => pipeline.exec());
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw new ServiceUnavailableError('online registry', { cause: failed[0] });
  }

  /** Removes entries whose node stopped refreshing them; returns the users now offline. */
  async reap(limit = 1000): Promise<string[]> {
    const gone = (await this.#call(() =>
      this.#script(REAP_SCRIPT, 1, this.#expiryKey(), String(Date.now()), String(limit), this.#o.prefix),
    )) as string[];
    return gone.filter((u) => userName.safeParse(u).success);
  }

  /** The registered address of a device of this node; undefined for another node's device. */
  addressOf(connectionId: string): Endpoint | undefined {
    const local = this.#local.get(connectionId);
    return local ? { ...local.registeredAddress } : undefined;
  }

  #toDevice(s: SharedDevice, address?: Endpoint): ClusterDevice {
    const registeredAddress =
      address ?? (s.node === this.#o.nodeId ? this.#local.get(s.conn)?.registeredAddress : undefined);
    return {
      connectionId: s.conn,
      user: s.user,
      device: s.device,
      listen: s.listen,
      logonSequence: s.seq,
      node: s.node,
      natTag: s.natTag,
      // Another node's device has no address here (SPEC §4.4): the judgement compares tags instead.
      registeredAddress: registeredAddress ? { ...registeredAddress } : undefined,
    } as ClusterDevice;
  }

  /** EVALSHA (the script's text is not sent each time), EVAL when Redis lost it (a restart). */
  async #script(lua: string, keys: number, ...args: string[]): Promise<unknown> {
    let sha = SCRIPT_SHA.get(lua);
    if (!sha) {
      sha = createHash('sha1').update(lua).digest('hex');
      SCRIPT_SHA.set(lua, sha);
    }
    try {
      return await this.#o.redis.evalsha(sha, keys, ...args);
    } catch (err) {
      if (!String(err).includes('NOSCRIPT')) throw err;
      return this.#o.redis.eval(lua, keys, ...args);
    }
  }

  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw new ServiceUnavailableError('online registry', { cause: err });
    }
  }

  #userKey(user: string): string {
    return `${this.#o.prefix}u:${user}`;
  }

  #expiryKey(): string {
    return `${this.#o.prefix}expiry`;
  }
}

function member(user: string, conn: string): string {
  return `${user} ${conn}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
