-- wrk script for the closed-loop part of the Slack acknowledgement benchmark (bash bench/run.sh slack).
--
--   wrk -t2 -c32 -d15s --timeout 10s -s bench/slack-wrk.lua http://127.0.0.1:PORT -- PREFIX KIND RELEASE
--
-- Thread n (0, 1, ...) reads PREFIX.n: signed raw HTTP/1.1 requests written by ShipBot.Bench just
-- before the run, each one preceded by a line holding its length in bytes. Every request is unique
-- (its own trigger_id and response_url), because ShipBot refuses an exact replay with 401. A thread
-- that runs out starts over; those copies are counted as "wrapped" (and ShipBot answers them 401).
--
-- Each response is checked: KIND "command" expects 200 with the in-channel card of RELEASE in the
-- body, KIND "button" expects 200 with an empty body. done() prints one "WRK key=value ..." line
-- (latencies in microseconds) that ShipBot.Bench parses.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local prefix = args[1]
  kind = args[2]
  release = args[3]
  reqs = {}
  local f = assert(io.open(prefix .. "." .. id, "rb"))
  while true do
    local line = f:read("*l")
    if not line then break end
    local n = tonumber(line)
    reqs[#reqs + 1] = f:read(n)
  end
  f:close()
  loaded = #reqs
  i = 0
  wrapped = 0
  ok = 0
  bad_body = 0
  s401 = 0
  s429 = 0
  s5xx = 0
  other = 0
end

function request()
  i = i + 1
  if i > loaded then
    i = 1
    wrapped = wrapped + 1
  end
  return reqs[i]
end

function response(status, headers, body)
  if status == 200 then
    local good
    if kind == "button" then
      good = body == nil or #body == 0
    else
      good = body ~= nil and string.find(body, '"response_type":"in_channel"', 1, true) ~= nil
        and string.find(body, release, 1, true) ~= nil and string.find(body, '"blocks"', 1, true) ~= nil
    end
    if good then ok = ok + 1 else bad_body = bad_body + 1 end
  elseif status == 401 then
    s401 = s401 + 1
  elseif status == 429 then
    s429 = s429 + 1
  elseif status >= 500 then
    s5xx = s5xx + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local keys = { "ok", "bad_body", "s401", "s429", "s5xx", "other", "wrapped", "loaded" }
  local total = {}
  for _, k in ipairs(keys) do total[k] = 0 end
  for _, thread in ipairs(threads) do
    for _, k in ipairs(keys) do total[k] = total[k] + (tonumber(thread:get(k)) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
    "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.1f " ..
    "ok=%d bad_body=%d s401=%d s429=%d s5xx=%d other=%d wrapped=%d loaded=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean,
    total.ok, total.bad_body, total.s401, total.s429, total.s5xx, total.other, total.wrapped, total.loaded))
end
