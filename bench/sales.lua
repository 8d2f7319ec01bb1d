-- wrk script: internet sales of one passenger on a random train and a random OD pair.
--
-- Arguments (after "--"): mode ("sale" = hold then pay, "hold" = hold only), tag,
-- train numbers (comma-separated), date, station codes (comma-separated), bearer
-- token. Each request gets a unique Idempotency-Key and each hold a unique
-- passenger ID number made of the tag, the wrk thread id and the thread's
-- counter, so no ID ever holds two journeys (the real-name rule would refuse
-- overlapping ones).
--
-- In "sale" mode a hold's answer queues the payment of that order (card, the
-- order's total), and a connection ready to send takes a waiting payment before
-- starting a new hold, as a client pays right after holding. A sale's latency is
-- from its hold being handed to a connection to its payment's answer (the
-- monotonic clock, through LuaJIT's ffi). done() prints lines that
-- bench/http_bench.py reads: "status <kind> <code> <count>", "sales <count>",
-- "sale_us <percent> <microseconds>".

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } timespec;
  int clock_gettime(int clk_id, timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
  return tonumber(now_ts.tv_sec) * 1e6 + tonumber(now_ts.tv_nsec) / 1e3
end

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local mode, tag, date, token
local trains = {}
local codes = {}
local pairs_ab = {}
local counter = 0
local payments = {}      -- queued pay requests, oldest first
local started = {}       -- serial -> hold start time (us)
statuses = {}            -- globals: done() reads them from each thread with thread:get
latencies = {}
sales = 0

local function split(text)
  local items = {}
  for item in string.gmatch(text, "[^,]+") do
    table.insert(items, item)
  end
  return items
end

function init(args)
  mode = args[1]
  tag = args[2]
  trains = split(args[3])
  date = args[4]
  codes = split(args[5])
  token = args[6]
  for a = 1, #codes - 1 do
    for b = a + 1, #codes do
      table.insert(pairs_ab, {a, b})
    end
  end
  math.randomseed(id * 7919 + os.time())
end

local function headers(key)
  return {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = key,
  }
end

local function hold()
  counter = counter + 1
  local serial = string.format("%s%02d%010d", tag, id, counter)
  local od = pairs_ab[math.random(#pairs_ab)]
  local train = trains[math.random(#trains)]
  local body = string.format(
    '{"train":"%s","date":"%s","from":"%s","to":"%s","class":"ZE",' ..
    '"passengers":[{"name":"P%s","id_number":"%s"}],"channel":"internet"}',
    train, date, codes[od[1]], codes[od[2]], serial, serial)
  if mode == "sale" then
    started[serial] = now_us()
  end
  return wrk.format("POST", "/v1/orders", headers(serial), body)
end

function request()
  local pay = table.remove(payments, 1)
  if pay ~= nil then
    return pay
  end
  return hold()
end

local function count(kind, status)
  local key = kind .. " " .. status
  statuses[key] = (statuses[key] or 0) + 1
end

local function queue_payment(body)
  local order_id = string.match(body, '"order_id":"(%x+)"')
  local total = string.match(body, '"total_fen":(%d+)')
  local serial = string.match(body, '"passenger":"P(%w+)"')
  if order_id == nil or total == nil or serial == nil then
    return
  end
  local pay = string.format(
    '{"method":"card","amount_fen":%s,"reference":"R%s","acquirer":"BANK",' ..
    '"card_masked":"622848******1234"}', total, serial)
  table.insert(payments, wrk.format(
    "POST", "/v1/orders/" .. order_id .. "/pay", headers("pay" .. serial), pay))
end

local function paid(body)
  local serial = string.match(body, '"passenger":"P(%w+)"')
  local since = serial and started[serial]
  if since ~= nil then
    table.insert(latencies, now_us() - since)
    started[serial] = nil
  end
  sales = sales + 1
end

function response(status, headers, body)
  local is_pay = string.find(body, '"status":"issued"', 1, true) ~= nil
  if status == 201 then
    count("hold", status)
    if mode == "sale" then
      queue_payment(body)
    end
  elseif status == 200 and is_pay then
    count("pay", status)
    paid(body)
  else
    count("other", status)
  end
end

function done(summary, latency, requests)
  local all = {}
  local total_sales = 0
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("statuses")) do
      io.write(string.format("status %s %d\n", key, n))
    end
    for _, us in ipairs(thread:get("latencies")) do
      table.insert(all, us)
    end
    total_sales = total_sales + thread:get("sales")
  end
  io.write(string.format("sales %d\n", total_sales))
  table.sort(all)
  for _, p in ipairs({50, 90, 99}) do
    if #all > 0 then
      local index = math.max(1, math.ceil(#all * p / 100))
      io.write(string.format("sale_us %d %.0f\n", p, all[index]))
    end
  end
end
