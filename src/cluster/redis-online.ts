import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Endpoint } from '../protocol/fields.js';
import { deviceName, userName } from '../protocol/fields.js';
import { ServiceUnavailableError } from '../store/errors.js';
import type { DeviceRegistration, OnlineDevice, OnlineRegistry } from '../store/online.js';
import { OnlineCache } from './online-cache.js';
import { ADD_SCRIPT, REAP_SCRIPT, REMOVE_SCRIPT, RESTORE_SCRIPT } from './online-scripts.js';

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
  /** A node whose heartbeat stops is gone, with all its devices, after this time. */
  ttlMs: number;
  /** The tag of a registered address (nat-tag.ts with the cluster secret and the operator's masks). */
  tagOf: (address: Endpoint) => string;
  /** Whether changes published on the online channel reach this node now (its subscription is up). */
  changesArrive: () => boolean;
}

/** Users whose entries a node keeps in memory at most (cache of what its clients ask about). */
export const ONLINE_CACHE_MAX_USERS = 200_000;

const SCRIPT_SHA = new Map<string, string>();

interface LocalDevice {
  shared: SharedDevice;
  registeredAddress: Endpoint;
}

/**
 * The OnlineRegistry of several nodes on one Redis (SPEC §4.8). A device is online while its node is:
 * each node pushes its own liveness forward every third of the TTL (one write per node, whatever its
 * number of clients); a node that dies stops, and any node's reaper removes all its devices at once and
 * announces whoever went offline with them. What other nodes read is cached here until the online
 * channel says it changed (online-cache.ts). The registered address itself stays in this node's memory:
 * other nodes see the tag only.
 */
export class RedisOnlineRegistry implements OnlineRegistry {
  readonly #o: RedisOnlineOptions;
  readonly #local = new Map<string, LocalDevice>();
  readonly #cache: OnlineCache<SharedDevice[]>;
  /** Each node's liveness end as last read from Redis: judging a device live needs no round trip. */
  readonly #nodes = new Map<string, number>();

  constructor(options: RedisOnlineOptions) {
    this.#o = options;
    this.#cache = new OnlineCache(ONLINE_CACHE_MAX_USERS, options.changesArrive);
  }

  /** Devices of this node. */
  get localCount(): number {
    return this.#local.size;
  }

  /** Users whose entries this node keeps in memory. */
  get cachedUsers(): number {
    return this.#cache.size;
  }

  get channel(): string {
    return `${this.#o.prefix}online`;
  }

  async addDevice(r: DeviceRegistration): Promise<{ device: OnlineDevice; firstDevice: boolean }> {
    if (this.#local.has(r.connectionId)) await this.removeDevice(r.connectionId);
    const shared: SharedDevice = {
      user: r.user,
      node: this.#o.nodeId,
      conn: r.connectionId,
      device: r.requestedDevice,
      listen: r.listen,
      natTag: this.#o.tagOf(r.registeredAddress),
      seq: 0,
    };
    const [seq, first, device] = (await this.#call(() =>
      this.#script(
        ADD_SCRIPT,
        [this.#userKey(r.user), this.#nodesKey(), this.#seqKey(), this.#nodeSetKey(), this.channel],
        [r.connectionId, JSON.stringify(shared), String(Date.now()), member(r.user, r.connectionId)],
      ),
    )) as [number, number, string];
    shared.seq = seq;
    shared.device = device;
    this.#local.set(r.connectionId, { shared, registeredAddress: { ...r.registeredAddress } });
    this.#cache.forget([r.user]);
    return { device: this.#toDevice(shared), firstDevice: first === 1 };
  }

  async removeDevice(
    connectionId: string,
  ): Promise<{ device: OnlineDevice; lastDevice: boolean } | undefined> {
    const local = this.#local.get(connectionId);
    if (!local) return undefined;
    this.#local.delete(connectionId);
    const { user } = local.shared;
    const last = (await this.#call(() =>
      this.#script(
        REMOVE_SCRIPT,
        [this.#userKey(user), this.#nodesKey(), this.#nodeSetKey(), this.channel],
        [connectionId, String(Date.now()), member(user, connectionId), user],
      ),
    )) as number;
    this.#cache.forget([user]);
    // -1: the entry had already been reaped (this node was cut off too long); its offline was told then.
    return { device: this.#toDevice(local.shared, local.registeredAddress), lastDevice: last === 1 };
  }

  async devicesOf(user: string): Promise<OnlineDevice[]> {
    const entries = await this.#cache.read(user, () => this.#read(user));
    const now = Date.now();
    const out: ClusterDevice[] = [];
    for (const entry of entries) if (await this.#nodeLive(entry.node, now)) out.push(this.#toDevice(entry));
    return out.sort((a, b) => b.logonSequence - a.logonSequence);
  }

  async isOnline(user: string): Promise<boolean> {
    return (await this.devicesOf(user)).length > 0;
  }

  /** Devices of this node: the per-node gauge. */
  async deviceCount(): Promise<number> {
    return this.#local.size;
  }

  /** Entries of other nodes may have changed unseen (the subscription was down): read them again. */
  changesMissed(): void {
    this.#cache.clear();
  }

  /** The online channel said these users' devices changed. */
  changed(users: Iterable<string>): void {
    this.#cache.forget(users);
  }

  /**
   * Pushes this node's liveness forward and reads every node's. When Redis did not list this node (it
   * restarted empty, or this node was cut off longer than the TTL and reaped), every local entry is
   * written again: returns the users who were offline for their buddies and are online again.
   */
  async heartbeat(): Promise<string[]> {
    const now = Date.now();
    const added = await this.#call(() =>
      this.#o.redis.zadd(this.#nodesKey(), now + this.#o.ttlMs, this.#o.nodeId),
    );
    const back = added === 1 && this.#local.size > 0 ? await this.#restore(now) : [];
    const listed = await this.#call(() => this.#o.redis.zrange(this.#nodesKey(), 0, -1, 'WITHSCORES'));
    this.#nodes.clear();
    for (let i = 0; i + 1 < listed.length; i += 2) this.#nodes.set(listed[i] ?? '', Number(listed[i + 1]));
    return back;
  }

  /**
   * At start: a node that comes back under the same id must not find its previous life's devices
   * still online. Marks it dead and reaps it before its first heartbeat.
   */
  async forgetPreviousLife(): Promise<string[]> {
    await this.#call(() => this.#o.redis.zadd(this.#nodesKey(), 0, this.#o.nodeId));
    return this.reap();
  }

  /** Removes the devices of nodes whose heartbeat stopped; returns the users now offline. */
  async reap(limit = 16): Promise<string[]> {
    const gone = (await this.#call(() =>
      this.#script(
        REAP_SCRIPT,
        [this.channel, this.#nodesKey()],
        [String(Date.now()), this.#o.prefix, String(limit)],
      ),
    )) as string[];
    return gone.filter((u) => userName.safeParse(u).success);
  }

  /** The registered address of a device of this node; undefined for another node's device. */
  addressOf(connectionId: string): Endpoint | undefined {
    const local = this.#local.get(connectionId);
    return local ? { ...local.registeredAddress } : undefined;
  }

  async #restore(now: number): Promise<string[]> {
    // Redis may have restarted without its scripts: load this one before a pipeline of EVALSHA.
    const sha = (await this.#call(() => this.#o.redis.script('LOAD', RESTORE_SCRIPT))) as string;
    const pipeline = this.#o.redis.pipeline();
    const users: string[] = [];
    for (const [conn, { shared }] of this.#local) {
      users.push(shared.user);
      pipeline.evalsha(
        sha,
        5,
        this.#userKey(shared.user),
        this.#nodesKey(),
        this.#seqKey(),
        this.#nodeSetKey(),
        this.channel,
        conn,
        JSON.stringify(shared),
        String(now),
        member(shared.user, conn),
      );
    }
    const results = await this.#call(() => pipeline.exec());
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw new ServiceUnavailableError('online registry', { cause: failed[0] });
    this.#cache.clear();
    return [...new Set(users.filter((_, i) => results?.[i]?.[1] === 1))];
  }

  async #read(user: string): Promise<SharedDevice[]> {
    const entries = await this.#call(() => this.#o.redis.hvals(this.#userKey(user)));
    const out: SharedDevice[] = [];
    for (const text of entries) {
      const parsed = sharedDevice.safeParse(safeJson(text));
      if (parsed.success && parsed.data.user === user) out.push(parsed.data);
    }
    return out;
  }

  /**
   * Live by the last heartbeat read; a node that looks dead (or is new) is asked about again, since the
   * copy may be a tick old.
   */
  async #nodeLive(node: string, now: number): Promise<boolean> {
    if (node === this.#o.nodeId) return true;
    if ((this.#nodes.get(node) ?? 0) > now) return true;
    const score = await this.#call(() => this.#o.redis.zscore(this.#nodesKey(), node));
    const until = score === null ? 0 : Number(score);
    this.#nodes.set(node, until);
    return until > now;
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
  async #script(lua: string, keys: string[], args: string[]): Promise<unknown> {
    const sha = SCRIPT_SHA.get(lua) ?? createHash('sha1').update(lua).digest('hex');
    SCRIPT_SHA.set(lua, sha);
    try {
      return await this.#o.redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String(err).includes('NOSCRIPT')) throw err;
      return this.#o.redis.eval(lua, keys.length, ...keys, ...args);
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

  #nodesKey(): string {
    return `${this.#o.prefix}nodes`;
  }

  #nodeSetKey(): string {
    return `${this.#o.prefix}n:${this.#o.nodeId}`;
  }

  #seqKey(): string {
    return `${this.#o.prefix}seq`;
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
