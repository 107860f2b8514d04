--[[
  Finishes one event: adds the business jobs its fan-out plan still owes, each marked sent
  as it is added, then remembers the event as processed and drops its ledger.

  KEYS[1] the event's processed mark   KEYS[2] its fan-out plan   KEYS[3] its sent queues
  KEYS[4..] nine keys per business job (a JobInsert each)
  ARGV[1] dedupe ttl (s)
  ARGV[2..] per job: its queue's name, then its three JobInsert arguments

  Each job is marked sent right after it is added: should the script fail part way (a
  Redis script is not rolled back), the retry adds only the jobs still missing.
]]
local jobs = (#KEYS - 3) / 9
for i = 0, jobs - 1 do
  local k, a = 4 + i * 9, 2 + i * 4
  addStandardJob({unpack(KEYS, k, k + 8)}, {ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]})
  redis.call('SADD', KEYS[3], ARGV[a])
  redis.call('EXPIRE', KEYS[3], ARGV[1])
end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
return jobs
