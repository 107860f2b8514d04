--[[
  Applies one Persona event to a request's state, never letting an older event win.

  Order: by the event's created-at, then the object's updated-at. A transaction event sets
  the request's persona_status; a verification or report event sets that object's entry.
  When the status changes and routing named queues, the fan-out plan is stored in the same
  step, so that a crash between here and the last queue cannot lose or repeat a job.

  KEYS[1] request record (hash)
  KEYS[2] the request's objects (hash: object id -> json)
  KEYS[3] the request's event history (hash: event id -> json)
  KEYS[4] fan-out plan of this event
  KEYS[5] requests awaiting a decision (sorted set)
  KEYS[6] the fan-out plan's sent queues (set)

  ARGV[1] 'transaction' or 'object'
  ARGV[2] event id       ARGV[3] event name     ARGV[4] status ('' when none)
  ARGV[5] event created-at (ms)                  ARGV[6] object updated-at (ms, or -1)
  ARGV[7] object type    ARGV[8] object id      ARGV[9] event created-at (ISO)
  ARGV[10] fan-out plan json, or ''              ARGV[11] plan ttl (s)
  ARGV[12] '1' when the status is a decision     ARGV[13] request id
  ARGV[14] now (ISO)

  Returns {applied (0/1), changed (0/1), previous status, the event's fan-out plan json or
  '' (this run's, or one an earlier run stored), then the plan's queues already sent}, so
  that the caller fans out without reading them again. A request whose record has expired
  is left alone: an event never recreates it (nor its history) without a TTL.
]]
local function result(applied, changed, prev)
  return {applied, changed, prev, redis.call('GET', KEYS[4]) or '', unpack(redis.call('SMEMBERS', KEYS[6]))}
end

if redis.call('EXISTS', KEYS[1]) == 0 then return result(0, 0, '') end
local kind, eventId, name, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local eventAt, updatedAt = tonumber(ARGV[5]), tonumber(ARGV[6])
local objectType, objectId, occurredAt = ARGV[7], ARGV[8], ARGV[9]
local plan, planTtl, decision, requestId, nowIso = ARGV[10], ARGV[11], ARGV[12], ARGV[13], ARGV[14]

local function newer(curAt, curUpd)
  return eventAt > curAt or (eventAt == curAt and updatedAt > curUpd)
end

local applied, changed, prev = 0, 0, ''
if kind == 'transaction' then
  -- The status the last applied event set: the one the create response reported is not a
  -- change of state, so the first event that routes (approved, ...) still fans out.
  prev = redis.call('HGET', KEYS[1], 'state_status') or ''
  local curAt = tonumber(redis.call('HGET', KEYS[1], 'state_event_at')) or -1
  local curUpd = tonumber(redis.call('HGET', KEYS[1], 'state_updated_at')) or -1
  if status ~= '' and newer(curAt, curUpd) then
    applied = 1
    redis.call('HSET', KEYS[1], 'persona_status', status, 'state_status', status, 'state_event_at', eventAt,
      'state_updated_at', updatedAt, 'state_event_id', eventId, 'updated_at', nowIso)
    if prev ~= status then changed = 1 end
    if decision == '1' then redis.call('ZREM', KEYS[5], requestId) end
  end
else
  local cur = redis.call('HGET', KEYS[2], objectId)
  local curAt, curUpd = -1, -1
  if cur then
    local c = cjson.decode(cur)
    prev, curAt, curUpd = c.status or '', c.event_at or -1, c.updated_at_ms or -1
  end
  if status ~= '' and newer(curAt, curUpd) then
    applied = 1
    redis.call('HSET', KEYS[2], objectId, cjson.encode({
      id = objectId, type = objectType, status = status, event_at = eventAt,
      updated_at_ms = updatedAt, occurred_at = occurredAt, event_id = eventId,
    }))
    redis.call('HSET', KEYS[1], 'updated_at', nowIso)
    if prev ~= status then changed = 1 end
  end
end

if changed == 1 and plan ~= '' then
  redis.call('SET', KEYS[4], plan, 'EX', planTtl, 'NX')
end
redis.call('HSETNX', KEYS[3], eventId, cjson.encode({
  event_id = eventId, name = name, status = status, object_type = objectType,
  object_id = objectId, occurred_at = occurredAt, applied = applied == 1,
}))
-- The request's objects and history go when the request does.
local ttl = redis.call('TTL', KEYS[1])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[3], ttl)
  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ttl) end
end
return result(applied, changed, prev)
