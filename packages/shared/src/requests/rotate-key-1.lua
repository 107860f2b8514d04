--[[
  Mints a new Persona Idempotency-Key for a queued request, once reconciliation proved
  that nothing was created under the current one. Guarded by the key generation so that
  two runs of the same job cannot both rotate.

  KEYS[1] request record (hash)
  ARGV[1] expected key generation
  ARGV[2] new key
  ARGV[3] updated_at

  Returns 1 when rotated, 0 otherwise.
]]
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
if redis.call('HGET', KEYS[1], 'key_generation') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'persona_key', ARGV[2], 'key_generation', tostring(tonumber(ARGV[1]) + 1),
  'server_errors', '0', 'updated_at', ARGV[3])
redis.call('HDEL', KEYS[1], 'first_attempt_at', 'last_attempt_at', 'tagged', 'search_first')
return 1
