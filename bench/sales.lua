-- wrk script: internet sales of one passenger on a random train and a random OD pair.
--
-- Arguments (after "--"): tag, train numbers (comma-separated), date, station
-- codes (comma-separated), bearer token. Each request gets a unique Idempotency-Key
-- and a unique passenger ID number made of the tag, the wrk thread id and the
-- thread's request counter, so no ID ever holds two journeys (the real-name
-- rule would refuse overlapping ones). done() prints "status <code> <count>"
-- lines that bench/http_bench.py reads.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local tag, date, token
local trains = {}
local codes = {}
local pairs_ab = {}
local counter = 0
statuses = {}  -- global: done() reads it from each thread with thread:get

local function split(text)
  local items = {}
  for item in string.gmatch(text, "[^,]+") do
    table.insert(items, item)
  end
  return items
end

function init(args)
  tag = args[1]
  trains = split(args[2])
  date = args[3]
  codes = split(args[4])
  token = args[5]
  for a = 1, #codes - 1 do
    for b = a + 1, #codes do
      table.insert(pairs_ab, {a, b})
    end
  end
  math.randomseed(id * 7919 + os.time())
end

function request()
  counter = counter + 1
  local serial = string.format("%s%02d%010d", tag, id, counter)
  local od = pairs_ab[math.random(#pairs_ab)]
  local train = trains[math.random(#trains)]
  local body = string.format(
    '{"train":"%s","date":"%s","from":"%s","to":"%s","class":"ZE",' ..
    '"passengers":[{"name":"P%s","id_number":"%s"}],"channel":"internet"}',
    train, date, codes[od[1]], codes[od[2]], serial, serial)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = serial,
  }
  return wrk.format("POST", "/v1/orders", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      io.write(string.format("status %d %d\n", status, count))
    end
  end
end
