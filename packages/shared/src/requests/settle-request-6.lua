--[[
  Moves a request from 'queued' to a final status ('submitted' or 'failed'). A final status
  is never changed by a settle: a duplicate or late run of the job cannot roll it back (only
  a re-drive, redrive-request-4.lua, puts a failed request back in the queue).

  A submitted request is linked from its Persona transaction id (KEYS[3]); a Persona
  transaction already linked to another request is never claimed twice. The personal data
  that only the Persona call needed (its fields, KEYS[2], and the caller's tags, which may
  name a person as well) is dropped, except for a failure that may be re-driven (ARGV[5] =
  '1'): it keeps both until the record's retention.

  KEYS[1] request record (hash)
  KEYS[2] request fields
  KEYS[3] link persona transaction id -> request id (ignored when ARGV[2] is '')
  KEYS[4] requests awaiting a decision (sorted set): a submitted request joins it, so that
          reconciliation can ask Persona about it if no decision arrives in time
  KEYS[5] failed requests (sorted set by failure time): a failed request joins it
  KEYS[6] queued requests (the creation backlog): a settled request leaves it
  ARGV[1] new status
  ARGV[2] request id to link, or ''
  ARGV[3] link and retention ttl (seconds)
  ARGV[4] now (ms)
  ARGV[5] '1' to keep the fields (a failure that may be re-driven)
  ARGV[6] request id
  ARGV[7..] field, value pairs to set with the status

  Returns 'settled', 'missing', 'conflict', or the status the request already had.
]]
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return 'missing' end
if current ~= 'queued' then return current end
if ARGV[2] ~= '' then
  local linked = redis.call('GET', KEYS[3])
  if linked and linked ~= ARGV[2] then return 'conflict' end
  redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[3])
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
  redis.call('EXPIRE', KEYS[4], ARGV[3])
end
local kv = {'status', ARGV[1]}
for i = 7, #ARGV do kv[#kv + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(kv))
if ARGV[1] == 'failed' then
  redis.call('ZADD', KEYS[5], ARGV[4], ARGV[6])
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', tonumber(ARGV[4]) - tonumber(ARGV[3]) * 1000)
  redis.call('EXPIRE', KEYS[5], ARGV[3])
end
redis.call('ZREM', KEYS[6], ARGV[6])
if ARGV[5] ~= '1' then
  redis.call('DEL', KEYS[2])
  redis.call('HDEL', KEYS[1], 'tags')
end
return 'settled'
