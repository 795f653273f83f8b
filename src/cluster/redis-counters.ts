import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LimitCounters } from '../server/limits/counters.js';
import { ServiceUnavailableError } from '../store/errors.js';

/** Token bucket in one hash: tokens and the time they were counted; refilled on each take. */
const TAKE = `
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(v[1]) or cap
local at = tonumber(v[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - at) / 1000 * rate)
local ok = 0
if tokens >= n then
  tokens = tokens - n
  ok = 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return ok`;

/** Fixed window: the first add starts it (and its expiry). */
const ADD = `
local c = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return c`;

/** A full bucket is forgotten after this long at most (it refills by itself meanwhile). */
const MAX_BUCKET_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * The limits' counters where every node sees them (issue 12 with issue 14): a per-account or per-source
 * limit holds across nodes. Keys are HMACs under the nodes' shared secret, since a limit key holds a
 * user name or a source address, and no address may sit in clear in shared state.
 */
export class RedisCounters implements LimitCounters {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly secret: Buffer,
  ) {}

  async take(key: string, capacity: number, perSecond: number, n = 1): Promise<boolean> {
    const ttl = Math.min(MAX_BUCKET_TTL_MS, Math.ceil((capacity / Math.max(perSecond, 1e-6)) * 1000) + 1000);
    const ok = await this.run(() =>
      this.redis.eval(TAKE, 1, this.keyOf(key, 'b'), capacity, perSecond, n, Date.now(), ttl),
    );
    return ok === 1;
  }

  async add(key: string, n: number, windowMs: number): Promise<number> {
    return Number(
      await this.run(() => this.redis.eval(ADD, 1, this.keyOf(key, 'w'), n, Math.max(1, windowMs))),
    );
  }

  async mark(key: string, untilMs: number): Promise<void> {
    const k = this.keyOf(key, 'm');
    await this.run<unknown>(() =>
      untilMs <= Date.now() ? this.redis.del(k) : this.redis.set(k, String(untilMs), 'PXAT', untilMs),
    );
  }

  async markedUntil(key: string): Promise<number> {
    const value = Number(await this.run(() => this.redis.get(this.keyOf(key, 'm'))));
    return Number.isFinite(value) && value > Date.now() ? value : 0;
  }

  async clear(key: string): Promise<void> {
    await this.run(() => this.redis.del(this.keyOf(key, 'w'), this.keyOf(key, 'm')));
  }

  private keyOf(key: string, kind: 'b' | 'w' | 'm'): string {
    const tag = createHmac('sha256', this.secret).update(key).digest('base64url').slice(0, 22);
    return `${this.prefix}limit:${kind}:${tag}`;
  }

  /** Redis away: the limit cannot be checked, so the request is refused (UNAVAILABLE), never waved through. */
  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw new ServiceUnavailableError('limit counters', { cause: err });
    }
  }
}
