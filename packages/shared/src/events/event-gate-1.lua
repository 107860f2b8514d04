--[[
  The receiver's two-phase dedupe gate for one Persona event id.

  KEYS[1] gate key of the event
  ARGV[1] op: 'claim', 'confirm' or 'release'
  ARGV[2] nonce of this receiver's claim
  ARGV[3] claim: claim ttl (ms); confirm: dedupe ttl (s)

  claim   -> 'claimed' (ours now), 'enqueued' (already stored: a duplicate), or 'in_flight'
             (another delivery holds a live claim: it may still fail, so do not answer 200)
  confirm -> 'ok': the event is stored; remember it for the dedupe window
  release -> 'ok': our claim is dropped so that Persona's retry can claim again
]]
local op, nonce = ARGV[1], ARGV[2]
local current = redis.call('GET', KEYS[1])
if op == 'claim' then
  if not current then
    redis.call('SET', KEYS[1], 'claimed:' .. nonce, 'PX', ARGV[3])
    return 'claimed'
  end
  if current == 'enqueued' then return 'enqueued' end
  return 'in_flight'
elseif op == 'confirm' then
  redis.call('SET', KEYS[1], 'enqueued', 'EX', ARGV[3])
  return 'ok'
elseif op == 'release' then
  if current == 'claimed:' .. nonce then redis.call('DEL', KEYS[1]) end
  return 'ok'
end
return redis.error_reply('unknown op ' .. tostring(op))
