--[[
  Admits one Persona event: its job is added and its id remembered as stored, in one step;
  or, when the id is already remembered, nothing is written (a duplicate).

  KEYS[1] gate key of the event
  KEYS[2..10] the event job's keys (a JobInsert)
  ARGV[1] dedupe ttl (s)
  ARGV[2..4] the event job's arguments (a JobInsert)

  Returns 'accepted' or 'duplicate'. Any other value at the gate key (a claim left by a
  receiver of the earlier two-phase gate) is not a stored event: the job is added (a no-op
  if it exists: the job id is the event id) and the id remembered.
]]
if redis.call('GET', KEYS[1]) == 'enqueued' then return 'duplicate' end
addStandardJob({unpack(KEYS, 2, 10)}, {ARGV[2], ARGV[3], ARGV[4]})
redis.call('SET', KEYS[1], 'enqueued', 'EX', ARGV[1])
return 'accepted'
