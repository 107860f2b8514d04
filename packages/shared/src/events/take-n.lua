--[[
  Reads keys' members and deletes the keys, atomically: the events parked (sets, ARGV[1]
  'smembers') or kept late (hashes of event id -> summary, ARGV[1] 'hvals') on some link
  ids, now taken by the one caller that runs this.

  KEYS[1..n] the sets or hashes
  Returns one list per key: its members (set) or values (hash), {} when it does not exist.
]]
local taken, found = {}, {}
for i, key in ipairs(KEYS) do
  taken[i] = redis.call(ARGV[1], key)
  if #taken[i] > 0 then found[#found + 1] = key end
end
if #found > 0 then redis.call('DEL', unpack(found)) end
return taken
