-- Shared by the wrk scripts of bench/api.py: per-thread counters of good and bad bodies, and
-- one JSON line ("BENCH {...}") summarising the run for api.py to parse.
-- Each script defines check(status, body) -> bool and sets `request` for its traffic.
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

-- Lines of the data file: key <TAB> user id <TAB> comma list of 100 order ids or "-".
function read_rows(path)
  local rows = {}
  for line in io.lines(path) do
    local key, uid, ids = line:match("^(%S+)\t(%S+)\t(%S+)$")
    if key then
      table.insert(rows, { key = key, uid = uid, ids = ids })
    end
  end
  return rows
end

function response(status, headers, body)
  if check(status, body) then
    ok = ok + 1
  else
    bad = bad + 1
    if first_bad == "" then
      first_bad = status .. " " .. body:sub(1, 160)
    end
  end
end

local function json_text(s)
  return '"' .. s:gsub('[^%w%s%.,:;{}%[%]%-_=/]', "?") .. '"'
end

function done(summary, latency, requests)
  local good, wrong, first = 0, 0, ""
  for _, thread in ipairs(threads) do
    good = good + (thread:get("ok") or 0)
    wrong = wrong + (thread:get("bad") or 0)
    local f = thread:get("first_bad")
    if first == "" and f and f ~= "" then
      first = f
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"ok":%d,"bad":%d,"socket_errors":%d,'
      .. '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,"first_bad":%s}\n',
    summary.requests, summary.duration, good, wrong,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    json_text(first)
  ))
end
