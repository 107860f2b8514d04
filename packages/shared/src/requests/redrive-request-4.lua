--[[
  Puts a request that failed for a transient reason back in the queue, once.

  Its Idempotency-Key is kept while Persona still holds it; past `ARGV[2]` since the first
  call under it, the request is marked to search for its transaction (by our tag) before any
  new call, so that a re-drive never creates a second transaction.

  KEYS[1] request record (hash)
  KEYS[2] request fields
  KEYS[3] failed requests (sorted set)
  KEYS[4] queued requests (the creation backlog): it joins it again
  ARGV[1] re-drivable error codes, space-separated
  ARGV[2] how long a key is trusted after its first call (ms)
  ARGV[3] now (ms)        ARGV[4] now (ISO)        ARGV[5] request id

  Returns 'redriven', 'missing', 'not_failed', 'not_redrivable' or 'data_gone'.
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if status ~= 'failed' then return 'not_failed' end
local ok, err = pcall(cjson.decode, redis.call('HGET', KEYS[1], 'error') or '{}')
local code = ok and err.code or ''
if not string.find(' ' .. ARGV[1] .. ' ', ' ' .. code .. ' ', 1, true) then return 'not_redrivable' end
if redis.call('EXISTS', KEYS[2]) == 0 then return 'data_gone' end
redis.call('HSET', KEYS[1], 'status', 'queued', 'server_errors', '0', 'updated_at', ARGV[4])
redis.call('HDEL', KEYS[1], 'error', 'given_up')
local first = tonumber(redis.call('HGET', KEYS[1], 'first_attempt_at'))
if first and tonumber(ARGV[3]) - first > tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'search_first', '1')
end
redis.call('ZREM', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[5])
redis.call('EXPIRE', KEYS[4], math.max(redis.call('TTL', KEYS[1]), 86400))
return 'redriven'
