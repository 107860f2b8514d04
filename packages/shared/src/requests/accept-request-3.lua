--[[
  Records an accepted transaction request, atomically with its Idempotency-Key.

  KEYS[1] idempotency key (ignored when ARGV[1] is '0')
  KEYS[2] request record (hash)
  KEYS[3] request fields (string, the personal data sent on to Persona)

  ARGV[1] '1' when the caller sent an Idempotency-Key, else '0'
  ARGV[2] request id
  ARGV[3] body hash
  ARGV[4] idempotency ttl (seconds)
  ARGV[5] record ttl (seconds)
  ARGV[6] fields json
  ARGV[7..] record field, value pairs

  Returns {'created', id} or {'existing', id, bodyHash}.
]]
if ARGV[1] == '1' then
  local existing = redis.call('GET', KEYS[1])
  if existing then
    local sep = string.find(existing, '\n', 1, true)
    return {'existing', string.sub(existing, 1, sep - 1), string.sub(existing, sep + 1)}
  end
end

local kv = {}
for i = 7, #ARGV do kv[#kv + 1] = ARGV[i] end
redis.call('HSET', KEYS[2], unpack(kv))
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('SET', KEYS[3], ARGV[6], 'EX', ARGV[5])
if ARGV[1] == '1' then
  redis.call('SET', KEYS[1], ARGV[2] .. '\n' .. ARGV[3], 'EX', ARGV[4])
end
return {'created', ARGV[2]}
