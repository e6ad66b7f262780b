-- wrk script: refresh-token rotation chains (POST /auth/refresh), one chain per connection.
--
--   REFRESH_TOKENS=FILE wrk -tN -cN -s bench/refresh.lua http://HOST:PORT/auth/refresh
--
-- FILE holds at least N refresh tokens ("ghr_..."), one a line, each from its own login (its own
-- session). Run with as many wrk threads as connections (-tN -cN): each thread then has exactly one
-- connection, and thread i owns the chain that starts at line i+1. Every request presents the
-- refresh token of the previous response in its chain (gatehouse retires the presented token, and
-- presenting a retired one after the grace window revokes the session, so a benchmark that reused
-- one token would be measuring the replay path instead of rotations).
--
-- wrk builds a dynamic request (this script has request()) only after the previous response on
-- the connection was handed to response(), so the chain is strictly sequential. A non-200
-- response leaves the chain's token unchanged (a 503 "busy" is retried with the same, still
-- current, token); wrk counts it as non-2xx and bench/report.py then marks the row invalid.
-- The summary prints, per run, the rotations seen in 200 responses and the failures by status.

local threads = {}
local next_id = 0

-- Runs in wrk's main Lua state, once per thread, before init() in the thread's own state.
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- globals, so that done() can read them with thread:get()
rotations, failures, unparsed, connections_seen = 0, 0, 0, 0
local token, path, host_header

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then error("refresh.lua: environment variable " .. name .. " is not set") end
  return v
end

function init(args)
  local file = env("REFRESH_TOKENS")
  local i = 0
  for line in io.lines(file) do
    if i == id then token = line:match("^%s*(.-)%s*$") break end
    i = i + 1
  end
  if token == nil or not token:match("^ghr_") then
    error("refresh.lua: " .. file .. " has no refresh token on line " .. (id + 1))
  end
  path = wrk.path
  if path == nil or path == "" or path == "/" then path = "/auth/refresh" end
end

function request()
  return wrk.format("POST", path, {["Content-Type"] = "application/json"},
                    '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
    return
  end
  local next_token = body:match('"refresh_token"%s*:%s*"(ghr_[^"]+)"')
  if next_token == nil then
    unparsed = unparsed + 1
    return
  end
  token = next_token
  rotations = rotations + 1
end

function done(summary, latency, requests)
  local r, f, u = 0, 0, 0
  for _, t in ipairs(threads) do
    r = r + t:get("rotations")
    f = f + t:get("failures")
    u = u + t:get("unparsed")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("refresh.lua: %d chains, %d rotations (200 with a new refresh token), " ..
                         "%d refused, %d unparsed; %.1f rotations/s\n",
                         #threads, r, f, u, r / seconds))
end
