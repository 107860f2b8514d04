--[[
  The fleet-wide Persona request budget: one script, atomic, on Redis's clock.

  KEYS[1] log   sorted set of grant times (ms), at most `limit` inside the window
  KEYS[2] state hash: pacing, blocks, Persona's last rate-limit headers, counters
  KEYS[3] background log: the grants of background calls, for their reserved share

  ARGV[1] op: 'acquire' or 'observe'
  ARGV[2] now in ms; empty = Redis TIME (tests pass it to walk the clock)
  ARGV[3] limit: requests allowed in any rolling window
  ARGV[4] window ms
  ARGV[5] margin ms, added to the window: covers the jitter between our grant and the
          request's arrival at Persona, which counts arrivals
  ARGV[6] burst: grants allowed back to back after an idle spell (>= 1)
  ARGV[7] ms in one of Persona's seconds: 1000, or less when tests shrink the window (the
          whole model scales: Persona's one-minute window is 60 of these)
  ARGV[8] background reserve: grants per window background calls get even while creation
          waits (0: background only takes slots creation does not want)

  acquire:
    ARGV[9] class: 'create' (transaction creation) or 'background'
    ARGV[10] product whose creation quota this call spends, or ''
    ARGV[11] unique member for the log
    Returns {1, 0, 'granted', inWindow} or {0, waitMs, reason, inWindow};
    reason is one of blocked, quota, window, priority, remote, pacing.

  observe (after every Persona response):
    ARGV[9] HTTP status
    ARGV[10] RateLimit-Limit, or ''
    ARGV[11] RateLimit-Remaining, or ''
    ARGV[12] RateLimit-Reset (seconds until Persona's window resets), or ''
    ARGV[13] '' | 'rate_limited' (a 429) | 'quota' (Quota exceeded) | 'quota_spent' (an
             answer whose quota headers say none is left: block before the breach)
    ARGV[14] product, for 'quota'
    ARGV[15] quota reset seconds, or ''
    ARGV[16] ms between sending the request and reading its answer (Persona wrote the
             headers somewhere in between)
    Returns how many ms the fleet (or the product) is now blocked for, or 0.
]]
local log, state, bglog = KEYS[1], KEYS[2], KEYS[3]
local op = ARGV[1]
local now = tonumber(ARGV[2])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- The state lives a day past its last use: an idle deployment leaves nothing behind.
if redis.call('PEXPIRE', state, 86400000) == 0 then
  redis.call('HSET', state, 'since', now)
  redis.call('PEXPIRE', state, 86400000)
end
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4]) + tonumber(ARGV[5])
local burst = tonumber(ARGV[6])
local second = tonumber(ARGV[7])
local reserve = tonumber(ARGV[8])

-- Persona's window is fixed and its reset is whole seconds: resume a little after it.
local RESET_GUARD_MS = 0.25 * second
-- Persona's fixed window is 60 seconds. Readings whose resets lie less than half a window
-- apart belong to the same window: a new window cannot end sooner than a full window after
-- the old one, and an old reading cannot end later than the window it came from.
local HALF_WINDOW_MS = 30 * second

local function num(field)
  return tonumber(redis.call('HGET', state, field))
end

if op == 'observe' then
  local status, hLimit, hRemaining, hReset = ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
  local kind, product, quotaReset = ARGV[13], ARGV[14], tonumber(ARGV[15])
  redis.call('HSET', state, 'last_status', status, 'last_seen_at', now)
  if hLimit and hLimit > 0 then
    redis.call('HSET', state, 'remote_limit', hLimit, 'last_limit', hLimit)
  end
  -- Nonsense (an epoch, a day) must not block the fleet for ever: no reset is longer than
  -- Persona's window, and no quota reset longer than an hour.
  if hReset and hReset > 60 then hReset = nil end
  if quotaReset and quotaReset > 3600 then quotaReset = nil end
  if hRemaining and hReset then
    redis.call('HSET', state, 'last_remaining', hRemaining, 'last_reset', hReset)
    local latency = tonumber(ARGV[16]) or 0
    -- Grants since this request left were not counted in what Persona answered.
    local inFlight = redis.call('ZCOUNT', log, '(' .. (now - latency), '+inf')
    local remaining = math.max(0, hRemaining - inFlight)
    local resetAt = now + hReset * second + RESET_GUARD_MS
    local curReset = num('remote_reset_at')
    if not curReset or curReset <= now or resetAt - latency - second > curReset + HALF_WINDOW_MS then
      -- The first reading, or one from a window after ours.
      redis.call('HSET', state, 'remote_reset_at', resetAt, 'remote_remaining', remaining)
    elseif resetAt >= curReset - HALF_WINDOW_MS then
      -- Same window: answers arrive out of order, the smaller count is the fresher. Each
      -- whole-second reading bounds the reset from above; keep the tightest bound.
      local curRemaining = num('remote_remaining') or remaining
      redis.call('HSET', state, 'remote_remaining', math.min(curRemaining, remaining),
        'remote_reset_at', math.min(curReset, resetAt))
    end
    -- else: a late answer from an earlier window; ignore it.
  end
  if kind == 'rate_limited' then
    -- We hit the wall: wait out the whole last second (Persona may round the reset down),
    -- or five seconds when it gave none (its advice: back off from 5 s).
    local untilMs = now + (hReset and (hReset + 1) or 5) * second
    if untilMs > (num('blocked_until') or 0) then
      redis.call('HSET', state, 'blocked_until', untilMs)
    end
    redis.call('HSET', state, 'remote_remaining', 0, 'remote_reset_at', math.max(untilMs, num('remote_reset_at') or 0))
    redis.call('HINCRBY', state, 'seen_429', 1)
    return math.max(untilMs, num('blocked_until') or 0) - now
  elseif kind == 'quota' or kind == 'quota_spent' then
    local field = 'quota_until:' .. product
    local untilMs = now + (quotaReset or 60) * second + RESET_GUARD_MS
    if untilMs > (num(field) or 0) then redis.call('HSET', state, field, untilMs) end
    redis.call('HSETNX', state, 'quota_since:' .. product, now)
    if kind == 'quota' then redis.call('HINCRBY', state, 'seen_quota', 1) end
    return math.max(untilMs, num(field) or 0) - now
  end
  if product ~= '' and kind == '' and tonumber(status) >= 200 and tonumber(status) < 300 then
    -- The product's quota let a creation through: whatever quota wait there was is over.
    redis.call('HDEL', state, 'quota_since:' .. product)
  end
  return 0
end

-- acquire
local class, product, member = ARGV[9], ARGV[10], ARGV[11]

local remoteLimit = num('remote_limit')
if remoteLimit and remoteLimit > 0 and remoteLimit < limit then limit = remoteLimit end
if burst > limit then burst = limit end
if burst < 1 then burst = 1 end
local interval = window / limit
local tolerance = (burst - 1) * interval

redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
local inWindow = redis.call('ZCARD', log)

-- Background grants in the window, counted against the reserve (only when one is set).
local bgInWindow = nil
local function reserveLeft()
  if reserve <= 0 then return false end
  if not bgInWindow then
    redis.call('ZREMRANGEBYSCORE', bglog, '-inf', now - window)
    bgInWindow = redis.call('ZCARD', bglog)
  end
  return bgInWindow < reserve
end

local function deny(reason, wait)
  wait = math.max(1, math.ceil(wait))
  redis.call('HINCRBY', state, 'denied_' .. reason, 1)
  if class ~= 'create' and reason ~= 'priority' and reason ~= 'quota' and reserveLeft() then
    -- A background call within its reserve waits for a slot: creation lets it have the next.
    redis.call('HSET', state, 'reserve_waiting_until', math.ceil(now + wait + interval))
  end
  if class == 'create' and reason ~= 'quota' then
    -- Creation is waiting for a slot: background work stays out of its way until it has
    -- gone, including when a block or Persona's reset ends. (A creation quota does not
    -- claim slots that creation cannot use.)
    local mark = now + wait + interval
    if mark > (num('create_waiting_until') or 0) then
      redis.call('HSET', state, 'create_waiting_until', math.ceil(mark))
    end
  end
  return {0, wait, reason, inWindow}
end

local blockedUntil = num('blocked_until') or 0
if blockedUntil > now then return deny('blocked', blockedUntil - now) end

if product ~= '' then
  local quotaUntil = num('quota_until:' .. product) or 0
  if quotaUntil > now then return deny('quota', quotaUntil - now) end
end

if inWindow >= limit then
  -- The grant whose leaving brings the count under the limit (the oldest, unless Persona
  -- lowered the limit below what the window already holds).
  local freeing = redis.call('ZRANGE', log, inWindow - limit, inWindow - limit, 'WITHSCORES')
  return deny('window', tonumber(freeing[2]) + window - now)
end

-- Creation goes first, except for the few slots per window reserved for background work
-- (reconciliation must not starve under a creation backlog that lasts hours).
if class ~= 'create' then
  local createWaiting = num('create_waiting_until') or 0
  if createWaiting > now and not reserveLeft() then
    local wait = createWaiting - now
    if reserve > 0 then
      local oldest = redis.call('ZRANGE', bglog, bgInWindow - reserve, bgInWindow - reserve, 'WITHSCORES')
      wait = math.min(wait, tonumber(oldest[2]) + window - now)
    end
    return deny('priority', wait)
  end
else
  local reserveWaiting = num('reserve_waiting_until') or 0
  if reserveWaiting > now and reserveLeft() then return deny('priority', reserveWaiting - now) end
end

-- What Persona says is left until its reset, shared with other programs on the same
-- environment: spread it, or stop until the reset when nothing is left.
-- remote_reset_at is the latest the reset can be (a whole-second reading plus a guard), the
-- right bound to wait for; spreading uses the earliest, so that a budget we can see is not
-- left unused by our own rounding.
local step = interval
local remoteReset, remoteRemaining = num('remote_reset_at'), num('remote_remaining')
if remoteReset and remoteRemaining and remoteReset > now then
  if remoteRemaining <= 0 then return deny('remote', remoteReset - now) end
  local earliestReset = remoteReset - RESET_GUARD_MS - second
  if earliestReset > now then
    step = math.max(interval, (earliestReset - now) / remoteRemaining)
  end
end

-- GCRA pacing: one grant per `step`, with a tolerance of `burst - 1` grants.
local tat = num('tat') or now
if now < tat - tolerance then return deny('pacing', tat - tolerance - now) end
if tat < now then tat = now end

redis.call('ZADD', log, now, member)
redis.call('PEXPIRE', log, window * 2)
if class ~= 'create' and reserve > 0 then
  redis.call('ZADD', bglog, now, member)
  redis.call('PEXPIRE', bglog, window * 2)
  redis.call('HDEL', state, 'reserve_waiting_until')
end
redis.call('HSET', state, 'tat', tat + step, 'last_grant', now)
if remoteRemaining and remoteReset and remoteReset > now then
  redis.call('HSET', state, 'remote_remaining', remoteRemaining - 1)
end
redis.call('HINCRBY', state, 'granted', 1)
return {1, 0, 'granted', inWindow + 1}
