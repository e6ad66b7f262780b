-- wrk script: HTTP Digest (RFC 7616), qop=auth, nonces reused with a strictly increasing nc.
--
--   DIGEST_NONCES=FILE DIGEST_SLOTS=K DIGEST_USER=U DIGEST_PASSWORD=P DIGEST_ALGORITHM=MD5|SHA-256 \
--     wrk -tT -cC -s bench/digest.lua URL
--
-- FILE holds at least T*K challenges, one a line: realm<TAB>nonce<TAB>opaque (bench/digest_client.py
-- challenges). Thread i uses lines i*K+1 .. i*K+K: K "slots", each a nonce with its own cnonce and
-- nc counter. Every request computes its response hash (MD5 or SHA-256, through OpenSSL's libcrypto,
-- which wrk is linked against, via LuaJIT's FFI) for nc = that slot's last nc + 1.
--
-- Why slots: a Digest server that checks nc (gatehouse does; Apache does not by default) refuses an
-- nc that is not greater than the last one it accepted for that nonce. wrk's request() is not told
-- which connection it is for, and two connections' requests may be processed out of order by the
-- server. So a slot is taken by one request and freed only when its response arrives (response()
-- finds the slot from the cnonce the server echoes in Authentication-Info): requests on one nonce
-- are then strictly sequential and their nc strictly increasing. K must exceed the connections per
-- thread. A response without a known cnonce (Apache without Authentication-Info, a 401) frees
-- nothing; when no slot is free the oldest-taken one is reused and counted as "reused busy" in the
-- summary (harmless against a server that does not check nc, a 401 against one that does).

local ffi = require("ffi")
local bit = require("bit")

ffi.cdef [[
typedef struct evp_md_st EVP_MD;
EVP_MD *EVP_MD_fetch(void *ctx, const char *algorithm, const char *properties);
int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
               const EVP_MD *type, void *impl);
]]

local function libcrypto()
  local ok = pcall(function() return ffi.C.EVP_Digest end)
  if ok then return ffi.C end
  return ffi.load("libcrypto.so.3")
end

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then error("digest.lua: environment variable " .. name .. " is not set") end
  return v
end

local threads = {}
local next_id = 0

-- Runs in wrk's main Lua state, once per thread, before init() in the thread's own state.
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local C, md, mdbuf, mdlen, hexbuf, hexd
local slots, by_cnonce, free, nfree
-- globals, so that done() can read them with thread:get()
reused_busy, freed = 0, 0
local host_header, path

local function hash_hex(s)
  if C.EVP_Digest(s, #s, mdbuf, mdlen, md, nil) ~= 1 then error("digest.lua: EVP_Digest failed") end
  local n = mdlen[0]
  for i = 0, n - 1 do
    local b = mdbuf[i]
    hexbuf[2 * i] = hexd[bit.rshift(b, 4)]
    hexbuf[2 * i + 1] = hexd[bit.band(b, 15)]
  end
  return ffi.string(hexbuf, 2 * n)
end

function init(args)
  local algorithm = env("DIGEST_ALGORITHM")
  local openssl_name = ({ ["MD5"] = "MD5", ["SHA-256"] = "SHA256" })[algorithm]
  if not openssl_name then error("digest.lua: DIGEST_ALGORITHM must be MD5 or SHA-256") end
  C = libcrypto()
  md = C.EVP_MD_fetch(nil, openssl_name, nil)
  if md == nil then error("digest.lua: libcrypto has no " .. openssl_name) end
  mdbuf = ffi.new("unsigned char[64]")
  mdlen = ffi.new("unsigned int[1]")
  hexbuf = ffi.new("char[128]")
  hexd = ffi.new("const char[17]", "0123456789abcdef")

  local user, password = env("DIGEST_USER"), env("DIGEST_PASSWORD")
  local k = tonumber(env("DIGEST_SLOTS"))
  local id = wrk.thread:get("id")
  path = wrk.path
  host_header = wrk.headers["Host"] or wrk.host
  local ha2 = hash_hex("GET:" .. path)

  local lines = {}
  for line in io.lines(env("DIGEST_NONCES")) do lines[#lines + 1] = line end
  if #lines < (id + 1) * k then
    error(string.format("digest.lua: %s has %d challenges, thread %d needs lines %d-%d",
      env("DIGEST_NONCES"), #lines, id, id * k + 1, (id + 1) * k))
  end

  slots, by_cnonce, free, nfree = {}, {}, {}, 0
  for s = 1, k do
    local realm, nonce, opaque = lines[id * k + s]:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
    if not realm then error("digest.lua: bad challenge line " .. (id * k + s)) end
    local ha1 = hash_hex(user .. ":" .. realm .. ":" .. password)
    local cnonce = string.format("%04x%04x%08x", id, s, math.random(0, 0x7fffffff))
    local slot = {
      nc = 0,
      taken = 0,
      -- response = H(HA1:nonce:nc:cnonce:qop:HA2)
      hash_prefix = ha1 .. ":" .. nonce .. ":",
      hash_suffix = ":" .. cnonce .. ":auth:" .. ha2,
      -- the request, around nc and response
      req_prefix = "GET " .. path .. " HTTP/1.1\r\nHost: " .. host_header .. "\r\n" ..
          'Authorization: Digest username="' .. user .. '", realm="' .. realm .. '", nonce="' ..
          nonce .. '", uri="' .. path .. '", algorithm=' .. algorithm .. ", qop=auth, nc=",
      req_middle = ', cnonce="' .. cnonce .. '", response="',
      req_suffix = '"' .. (opaque ~= "" and (', opaque="' .. opaque .. '"') or "") .. "\r\n\r\n",
    }
    slots[s] = slot
    by_cnonce[cnonce] = s
    nfree = nfree + 1
    free[nfree] = s
  end
end

local taken_seq = 0

function request()
  local s
  if nfree > 0 then
    s = free[nfree]
    nfree = nfree - 1
  else  -- no slot free: reuse the one taken longest ago (see the comment at the top)
    local oldest = math.huge
    for i = 1, #slots do
      if slots[i].taken < oldest then oldest, s = slots[i].taken, i end
    end
    reused_busy = reused_busy + 1
  end
  local slot = slots[s]
  taken_seq = taken_seq + 1
  slot.taken = taken_seq
  slot.busy = true
  slot.nc = slot.nc + 1
  local nc = string.format("%08x", slot.nc)
  local response = hash_hex(slot.hash_prefix .. nc .. slot.hash_suffix)
  return slot.req_prefix .. nc .. slot.req_middle .. response .. slot.req_suffix
end

function response(status, headers, body)
  local info = headers["Authentication-Info"] or headers["authentication-info"]
  if not info then return end
  local s = by_cnonce[info:match('cnonce="([^"]*)"') or ""]
  if s and slots[s].busy then
    slots[s].busy = false
    nfree = nfree + 1
    free[nfree] = s
    freed = freed + 1
  end
end

function done(summary, latency, requests)
  local reused, freed_total = 0, 0
  for _, t in ipairs(threads) do
    reused = reused + (t:get("reused_busy") or 0)
    freed_total = freed_total + (t:get("freed") or 0)
  end
  io.write(string.format("digest.lua: %d requests, %d slots freed by Authentication-Info, " ..
    "%d requests reused a busy slot\n", summary.requests, freed_total, reused))
end
