--[[
  Records an accepted transaction request, atomically with its Idempotency-Key and its
  creation job, unless its caller is over its rate or the creation backlog is full.

  KEYS[1] idempotency key (ignored when ARGV[1] is '0')
  KEYS[2] request record (hash)
  KEYS[3] request fields (string, the personal data sent on to Persona)
  KEYS[4] the caller's rate window (counter)
  KEYS[5] queued requests (sorted set by accept time): the creation backlog
  KEYS[6..14] the creation job's keys (a JobInsert); without a job, any keys (left untouched)

  ARGV[1] '1' when the caller sent an Idempotency-Key, else '0'
  ARGV[2] request id          ARGV[3] body hash
  ARGV[4] idempotency ttl (s)  ARGV[5] record ttl (s)
  ARGV[6] fields json
  ARGV[7] requests a caller may make per window (0: no limit)   ARGV[8] window (ms)
  ARGV[9] most requests queued at once (0: no cap)              ARGV[10] now (ms)
  ARGV[11..13] the creation job's arguments (a JobInsert); '' when there is no job
  ARGV[14..] record field, value pairs

  Returns {'created', id}, {'existing', id, bodyHash}, {'rate_limited', retryInMs} or
  {'backlog_full'}. A replay of a known key is answered before any limit: it costs nothing.
]]
if ARGV[1] == '1' then
  local existing = redis.call('GET', KEYS[1])
  if existing then
    local sep = string.find(existing, '\n', 1, true)
    return {'existing', string.sub(existing, 1, sep - 1), string.sub(existing, sep + 1)}
  end
end

local perWindow = tonumber(ARGV[7])
if perWindow > 0 then
  local count = redis.call('INCR', KEYS[4])
  if count == 1 then redis.call('PEXPIRE', KEYS[4], ARGV[8]) end
  if count > perWindow then
    local ttl = redis.call('PTTL', KEYS[4])
    if ttl < 0 then redis.call('PEXPIRE', KEYS[4], ARGV[8]); ttl = tonumber(ARGV[8]) end
    return {'rate_limited', ttl}
  end
end

local cap = tonumber(ARGV[9])
if cap > 0 and redis.call('ZCARD', KEYS[5]) >= cap then return {'backlog_full'} end

-- The job first: should it fail, nothing of the request is written either.
if ARGV[11] ~= '' then
  addStandardJob({unpack(KEYS, 6, 14)}, {ARGV[11], ARGV[12], ARGV[13]})
end

local kv = {}
for i = 14, #ARGV do kv[#kv + 1] = ARGV[i] end
redis.call('HSET', KEYS[2], unpack(kv))
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('SET', KEYS[3], ARGV[6], 'EX', ARGV[5])
if ARGV[1] == '1' then
  redis.call('SET', KEYS[1], ARGV[2] .. '\n' .. ARGV[3], 'EX', ARGV[4])
end
redis.call('ZADD', KEYS[5], ARGV[10], ARGV[2])
redis.call('EXPIRE', KEYS[5], ARGV[5])
return {'created', ARGV[2]}
