--[[
  Marks one queue of an event's fan-out plan as given its job, the set expiring with the
  plan.

  KEYS[1] the plan's set of sent queues
  ARGV[1] queue name    ARGV[2] ttl (s)
]]
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
