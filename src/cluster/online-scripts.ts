/**
 * The online registry's Lua scripts (redis-online.ts). Each runs atomically in Redis, so "first device",
 * "last device" and "who reaps a dead node" are decided once, whichever node asks.
 *
 * Keys under the deployment's prefix p:
 *   p u:<user>    hash, connection id → device JSON {user, node, conn, device, listen, natTag, seq}
 *   p nodes       sorted set, node id → the time its liveness runs out (its heartbeat pushes it on)
 *   p n:<node>    set of "<user> <conn>": the entries a node holds, so that a dead node's go at once
 *   p seq         logon counter ("most recent device" across nodes)
 * Channel p online: the users whose devices changed, one per line; every node drops what it cached.
 *
 * A device is live while its node is: one heartbeat per node instead of one refresh per device.
 */

/** `live(entry, now)`: the entry's node has a liveness in the future (looked up once per node). KEYS[2] is
 * always the nodes' sorted set. */
const LIVE = `
local nodeAlive = {}
local function live(d, now)
  local alive = nodeAlive[d.node]
  if alive == nil then
    local score = redis.call('ZSCORE', KEYS[2], d.node)
    alive = score ~= false and tonumber(score) > now
    nodeAlive[d.node] = alive
  end
  return alive
end
local function liveCount(key, now)
  local n = 0
  for _, v in ipairs(redis.call('HVALS', key)) do
    if live(cjson.decode(v), now) then n = n + 1 end
  end
  return n
end`;

/**
 * KEYS: user hash, nodes, seq, the node's set, channel. ARGV: conn, entry JSON, now, member.
 * Adds a device, named uniquely among the user's live devices (name-2, name-3… as on one node: device
 * names are ASCII, so byte lengths are character lengths). Returns {seq, first device?, device name}.
 */
export const ADD_SCRIPT = `${LIVE}
local now = tonumber(ARGV[3])
local taken = {}
local before = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
  local d = cjson.decode(v)
  if live(d, now) then
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
redis.call('SADD', KEYS[4], ARGV[4])
redis.call('PUBLISH', KEYS[5], entry.user)
return {entry.seq, before == 0 and 1 or 0, entry.device}`;

/**
 * KEYS: user hash, nodes, the node's set, channel. ARGV: conn, now, member, user.
 * Returns -1 when the entry was gone already (reaped), else 1 when it was the user's last live device.
 */
export const REMOVE_SCRIPT = `${LIVE}
local had = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[3])
if had == 0 then return -1 end
redis.call('PUBLISH', KEYS[4], ARGV[4])
return liveCount(KEYS[1], tonumber(ARGV[2])) == 0 and 1 or 0`;

/**
 * KEYS: user hash, nodes, seq, the node's set, channel. ARGV: conn, entry JSON, now, member.
 * Writes back an entry of a live node whose state Redis lost. Returns 1 when the user had no other live
 * device (its buddies were told it went offline, or Redis forgot it: they hear "online" again).
 */
export const RESTORE_SCRIPT = `${LIVE}
local now = tonumber(ARGV[3])
local entry = cjson.decode(ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[1])
local others = liveCount(KEYS[1], now)
if entry.seq > tonumber(redis.call('GET', KEYS[3]) or '0') then redis.call('SET', KEYS[3], entry.seq) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[4], ARGV[4])
redis.call('PUBLISH', KEYS[5], entry.user)
return others == 0 and 1 or 0`;

/**
 * KEYS: channel, nodes. ARGV: now, prefix, at most this many nodes.
 * Removes every entry of each node whose liveness ran out, and the node; returns the users left with no
 * live device. A whole node in one script: no heartbeat can slip in half-way and leave it half reaped.
 */
export const REAP_SCRIPT = `${LIVE}
local now = tonumber(ARGV[1])
local prefix = ARGV[2]
local gone = {}
local changed = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))) do
  redis.call('ZREM', KEYS[2], node)
  nodeAlive[node] = false
  local set = prefix .. 'n:' .. node
  for _, member in ipairs(redis.call('SMEMBERS', set)) do
    local space = string.find(member, ' ', 1, true)
    local user = string.sub(member, 1, space - 1)
    local key = prefix .. 'u:' .. user
    if redis.call('HDEL', key, string.sub(member, space + 1)) == 1 then
      table.insert(changed, user)
      if liveCount(key, now) == 0 then table.insert(gone, user) end
    end
  end
  redis.call('DEL', set)
end
if #changed > 0 then redis.call('PUBLISH', KEYS[1], table.concat(changed, '\\n')) end
return gone`;
