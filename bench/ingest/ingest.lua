-- wrk script for the webhook ingest benchmark.
--   [INGEST_RATE=R] wrk -t T -c C -d S -s ingest.lua http://127.0.0.1:PORT -- REQUESTS_FILE T [PATH]
-- INGEST_RATE > 0 paces the load: each thread sends RATE/T requests per second on a fixed schedule
-- (wrk's delay() holds a connection until its slot); when the server falls behind, the slots are
-- in the past and the connections send back to back, so the achieved rate shows it.
-- REQUESTS_FILE is written by gen.mjs: lines "evt_id \t in_id \t member \t Stripe-Signature", plus
-- REQUESTS_FILE.body, the body template with @@EVT@@ / @@IN@@ / @@M@@ placeholders.
-- Thread k (0-based) of T takes lines k, k+T, k+2T, ... so ids never repeat across threads; a
-- thread that runs out of lines wraps around and counts the repeats (reported by done()).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local evts, invs, mems, sigs = {}, {}, {}, {}
n, repeats = 0, 0  -- globals: done() reads them with thread:get()
local idx, sent = 0, 0
local pieces, prefix
local interval_ms, next_slot -- pacing (nil: as fast as the server answers)

function init(args)
  local file = args[1]
  local nthreads = tonumber(args[2])
  local path = args[3] or "/webhooks/stripe/bench"
  if pace_rate > 0 then interval_ms = 1000 * nthreads / pace_rate end
  assert(file and nthreads, "usage: -- REQUESTS_FILE NTHREADS [PATH]")

  local f = assert(io.open(file .. ".body", "rb"))
  local template = f:read("*a")
  f:close()
  -- Split the template into literals and placeholders.
  pieces = {}
  local pos = 1
  while true do
    local s, e, name = template:find("@@(%u+)@@", pos)
    if not s then break end
    table.insert(pieces, template:sub(pos, s - 1))
    table.insert(pieces, name)  -- "EVT", "IN" or "M"
    pos = e + 1
  end
  table.insert(pieces, template:sub(pos))

  local lineno = 0
  for line in io.lines(file) do
    if lineno % nthreads == tid then
      local evt, inv, mem, sig = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)$")
      assert(sig, "bad line in " .. file)
      n = n + 1
      evts[n], invs[n], mems[n], sigs[n] = evt, inv, mem, sig
    end
    lineno = lineno + 1
  end
  assert(n > 0, "no requests for thread " .. tid)

  prefix = "POST " .. path .. " HTTP/1.1\r\n" ..
           "Host: " .. wrk.host .. ":" .. wrk.port .. "\r\n" ..
           "User-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)\r\n" ..
           "Accept: */*; q=0.5, application/xml\r\n" ..
           "Cache-Control: no-cache\r\n" ..
           "Content-Type: application/json; charset=utf-8\r\n"
end

-- wrk asks for delay() only when the script defines it, which costs a timer per request: defined
-- only for a paced run (the environment is read when wrk loads the script, before init()).
pace_rate = tonumber(os.getenv("INGEST_RATE") or "0")
local function paced_delay()
  local now = now_ms()
  if not next_slot then next_slot = now end
  local slot = next_slot
  next_slot = next_slot + interval_ms
  if slot <= now then return 0 end
  return math.floor(slot - now)
end
if pace_rate > 0 then delay = paced_delay end

local buf = {}
function request()
  idx = idx + 1
  if idx > n then idx = 1 end
  sent = sent + 1
  if sent > n then repeats = repeats + 1 end
  local evt, inv, mem = evts[idx], invs[idx], mems[idx]
  for i = 1, #pieces do
    local p = pieces[i]
    if i % 2 == 0 then
      if p == "EVT" then p = evt elseif p == "IN" then p = inv else p = mem end
    end
    buf[i] = p
  end
  local body = table.concat(buf, "", 1, #pieces)
  return prefix .. "Stripe-Signature: " .. sigs[idx] .. "\r\nContent-Length: " .. #body ..
         "\r\n\r\n" .. body
end

function done(summary, latency, requests)
  local total_repeats, total_events = 0, 0
  for _, t in ipairs(threads) do
    total_repeats = total_repeats + (t:get("repeats") or 0)
    total_events = total_events + (t:get("n") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d " ..
    "mean_us=%.0f non2xx=%d connect=%d read=%d write=%d timeout=%d repeats=%d events_loaded=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean, e.status, e.connect, e.read, e.write, e.timeout,
    total_repeats, total_events))
end
