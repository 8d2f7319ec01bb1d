-- wrk script: availability of a random train and OD pair, asked back to back.
--
-- Arguments (after "--"): train numbers (comma-separated), date, station codes
-- (comma-separated). done() prints "status get <code> <count>" lines.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local trains = {}
local codes = {}
local date
statuses = {}

local function split(text)
  local items = {}
  for item in string.gmatch(text, "[^,]+") do
    table.insert(items, item)
  end
  return items
end

function init(args)
  trains = split(args[1])
  date = args[2]
  codes = split(args[3])
  math.randomseed(os.time())
end

function request()
  local a = math.random(#codes - 1)
  local b = math.random(a + 1, #codes)
  local path = string.format("/v1/availability?train=%s&date=%s&from=%s&to=%s",
    trains[math.random(#trains)], date, codes[a], codes[b])
  return wrk.format("GET", path)
end

function response(status, headers, body)
  local key = "get " .. status
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("statuses")) do
      io.write(string.format("status %s %d\n", key, n))
    end
  end
end
