#!/usr/bin/env bash
# gatehouse against nginx, Apache httpd (Digest) and FastAPI/uvicorn (+PyJWT for Bearer tokens),
# in one run, on this machine (docs/perf.md).
#
#   bench/run.sh            10 s of wrk per row (DURATION=N to change)
#   bench/run.sh --quick    3 s per row: checks that the script and every peer work
#
# Starts gatehouse (release build), nginx, Apache and uvicorn on free 127.0.0.1 ports, everything in a
# temp dir that a trap removes; checks that each peer answers 200 to good credentials and 401 to
# bad ones BEFORE loading it; runs wrk against each route; prints requests/s, p50, p99 and the
# ratios the targets are stated in. Raw wrk output and the table go to bench/results/<stamp>/.
# Bearer rows: gatehouse /auth/whoami with an EdDSA access token from a login just before the row
# (served from the verified-token cache) and uvicorn verifying the same token with PyJWT on every
# request; refresh row: durable rotations on gatehouse's SQLite store (bench/refresh.lua, one
# rotation chain per connection, REFRESH_CONNECTIONS wrk threads = connections); tracker rows:
# XML-RPC display (bench/xmlrpc.lua) and REST item GET on the demo tracker, Basic and Bearer.
#
# Environment:
#   BUILD           gatehouse build directory (default build/release)
#   GATEHOUSE_BIN   gatehouse binary (default $BUILD/gatehouse)
#   DURATION        seconds of load per row (default 10; --quick: 3)
#   CONNECTIONS     wrk connections (default 64)     WRK_THREADS  wrk threads (default 2)
#   BCRYPT_COST     cost of the htpasswd bcrypt entry shared by gatehouse, nginx, uvicorn (10)
#   REFRESH_CONNECTIONS  refresh chains = wrk threads = connections for the refresh row (4)
#   RESULTS_DIR     where results go (default bench/results)
#   UVICORN_ARGS    extra uvicorn options; default: its best available (uvloop + httptools when
#                   installed); "--loop asyncio --http h11" gives the pure-Python stack
set -euo pipefail

usage() { sed -n '2,/^set -euo pipefail/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

QUICK=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3  # the Debian python: fastapi, uvicorn, bcrypt are Debian packages
DURATION=${DURATION:-10}
((QUICK)) && DURATION=3
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
BCRYPT_COST=${BCRYPT_COST:-10}
BUILD=${BUILD:-$ROOT/build/release}
GATEHOUSE_BIN=${GATEHOUSE_BIN:-$BUILD/gatehouse}
REFRESH_CONNECTIONS=${REFRESH_CONNECTIONS:-4}
RESULTS_ROOT=${RESULTS_DIR:-$ROOT/bench/results}
STAMP=$(date -u +%Y%m%d-%H%M%S)$( ((QUICK)) && echo -quick || true)
RESULTS="$RESULTS_ROOT/$STAMP"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------------------------------ tools
missing_tools() {
  local t
  for t in wrk nginx apache2 htpasswd curl setsid timeout; do command -v "$t" >/dev/null || echo "$t"; done
  [[ -x $PY ]] || { echo "$PY"; return; }
  local m
  for m in fastapi uvicorn bcrypt jwt cryptography; do "$PY" -c "import $m" 2>/dev/null || echo "python3-$m"; done
}
if [[ -n "$(missing_tools)" ]]; then
  say "missing: $(missing_tools | tr '\n' ' ')- running scripts/install-deps.sh --test"
  "$ROOT/scripts/install-deps.sh" --test
  [[ -z "$(missing_tools)" ]] ||
    die "still missing after scripts/install-deps.sh --test: $(missing_tools | tr '\n' ' ')"
fi
if [[ -z ${UVICORN_ARGS:-} ]] && ! "$PY" -c 'import uvloop, httptools' 2>/dev/null; then
  say "warning: python3-uvloop / python3-httptools missing: uvicorn falls back to asyncio + h11,"
  say "         not its production stack (uvicorn[standard]); its rows will be much slower here"
fi
[[ -x $GATEHOUSE_BIN ]] || die "no gatehouse binary at $GATEHOUSE_BIN (build it: cmake --preset \
release && cmake --build --preset release --target gatehouse, or set BUILD or GATEHOUSE_BIN)"

# ---------------------------------------------------------------- temp dir, processes, teardown
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
PIDS=()      # process-group leaders we started (each server runs under setsid)
WATCHDOG=""

stop_group() {  # stop_group PID: TERM the process group PID leads, KILL it after 5 s
  local pid=$1 i
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for i in $(seq 50); do
    kill -0 -- "-$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${PIDS[@]}"; do stop_group "$pid"; done
  [[ -n $WATCHDOG ]] && kill -KILL -- "-$WATCHDOG" 2>/dev/null
  if [[ -d $RESULTS ]]; then  # keep the servers' logs next to the results
    mkdir -p "$RESULTS/logs"
    cp "$WORK"/*.log "$RESULTS/logs/" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# Bound the whole run: start-up and checks (~2 min at most) plus each wrk run with slack.
MAX_SECONDS=$((240 + 15 * (DURATION + 20)))
setsid bash -c "sleep $MAX_SECONDS; echo 'bench: time limit ($MAX_SECONDS s) reached' >&2; \
kill -TERM $$" </dev/null &
WATCHDOG=$!
disown "$WATCHDOG"

mkdir -p "$RESULTS"
chmod 0755 "$WORK"  # nginx workers (nobody) and Apache's children (www-data) read files in it

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
GH_PORT=$(free_port)
NG_PORT=$(free_port)
UV_PORT=$(free_port)
AP_PORT=$(free_port)
while [[ $NG_PORT == "$GH_PORT" ]]; do NG_PORT=$(free_port); done
while [[ $UV_PORT == "$GH_PORT" || $UV_PORT == "$NG_PORT" ]]; do UV_PORT=$(free_port); done
while [[ $AP_PORT == "$GH_PORT" || $AP_PORT == "$NG_PORT" || $AP_PORT == "$UV_PORT" ]]; do
  AP_PORT=$(free_port)
done

start() {  # start NAME CMD...: run CMD in its own process group, output to $WORK/NAME.log
  local name=$1
  shift
  setsid "$@" >"$WORK/$name.log" 2>&1 </dev/null &
  PIDS+=("$!")
  eval "${name}_PID=$!"
  disown "$!"  # no "Terminated" notices from bash at teardown
}

wait_ready() {  # wait_ready NAME URL: until URL answers anything, at most 30 s
  local name=$1 url=$2 pid_var="${1}_PID" i
  for i in $(seq 300); do
    if ! kill -0 "${!pid_var}" 2>/dev/null; then
      cat "$WORK/$name.log" >&2 || true
      die "$name exited during start-up (log above)"
    fi
    curl -s -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.1
  done
  cat "$WORK/$name.log" >&2 || true
  die "$name did not answer $url within 30 s"
}

# ------------------------------------------------------------------------------------ credentials
rand() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(12))'; }
b64() { printf '%s' "$1" | base64 -w0; }
DB_USER=alice                # argon2id, in gatehouse's database
DB_PASS="db-$(rand)"
HT_USER=bob                  # bcrypt, in the htpasswd file all three peers use
HT_PASS="ht-$(rand)"
HTPASSWD="$WORK/htpasswd"

say "htpasswd -B -C $BCRYPT_COST for $HT_USER"
htpasswd -i -B -C "$BCRYPT_COST" -c "$HTPASSWD" "$HT_USER" <<<"$HT_PASS" 2>/dev/null
chmod 0644 "$HTPASSWD"

DG_USER=carol                # Digest, in the htdigest file gatehouse and Apache use
DG_PASS="dg-$(rand)"
DG_REALM=gatehouse           # gatehouse's default [auth] realm; Apache's AuthName
HTDIGEST="$WORK/htdigest"
say "gatehouse htdigest: $DG_USER in realm $DG_REALM, an MD5 line (Apache's format) and a SHA-256 line"
for alg in MD5 SHA-256; do
  "$GATEHOUSE_BIN" htdigest "$HTDIGEST" "$DG_REALM" "$DG_USER" --password-stdin --algorithm "$alg" \
    <<<"$DG_PASS" >/dev/null
done
chmod 0644 "$HTDIGEST"

# --------------------------------------------------------------------------------------- gatehouse
GH_DATA="$WORK/gatehouse-data"
GH_CONF="$WORK/gatehouse.toml"
cat >"$GH_CONF" <<EOF
[server]
threads = 2

[log]
access = ""
level = "warn"

[auth]
schemes = ["apikey", "basic", "digest", "bearer"]

[tokens]
issuer = "http://127.0.0.1:$GH_PORT"   # defaults otherwise: EdDSA, access_ttl 600s, reuse_grace 10s

# The credential checks below log in wrongly on purpose, more often than the failed-login limit
# (4 per 600 s per user) allows; the rows themselves never fail a login.
[guard]
failed_login_limit = 100000
address_failed_login_limit = 100000

[auth.basic]
stores = ["db", "htpasswd:$HTPASSWD"]

[auth.digest]
algorithms = ["SHA-256", "MD5"]
qop = ["auth"]
nonce_lifetime = "1h"
stores = ["htdigest:$HTDIGEST"]
EOF
GH=("$GATEHOUSE_BIN")
"${GH[@]}" user add "$DB_USER" --password-stdin --config "$GH_CONF" --data "$GH_DATA" \
  <<<"$DB_PASS" >/dev/null
API_KEY=$("${GH[@]}" apikey create "$DB_USER" --name bench --config "$GH_CONF" --data "$GH_DATA" \
  2>/dev/null)
[[ $API_KEY == gh_* ]] || die "gatehouse apikey create printed no key"
start gatehouse "${GH[@]}" serve --listen "127.0.0.1:$GH_PORT" --data "$GH_DATA" --config "$GH_CONF"
GHB="http://127.0.0.1:$GH_PORT"
wait_ready gatehouse "$GHB/healthz"
# uvicorn's PyJWT route gets gatehouse's public keys once, at start-up, as a resource server would.
curl -s --max-time 10 -o "$WORK/jwks.json" "$GHB/.well-known/jwks.json" ||
  die "could not fetch $GHB/.well-known/jwks.json"
grep -q '"OKP"' "$WORK/jwks.json" || die "gatehouse's JWKS has no Ed25519 key: $(cat "$WORK/jwks.json")"

# ------------------------------------------------------------------------------------------ nginx
NG="$WORK/nginx"
mkdir -p "$NG/tmp" "$WORK/www"
printf '{"user":"%s","scheme":"basic"}\n' "$HT_USER" >"$WORK/www/whoami.json"
chmod 0755 "$WORK/www" && chmod 0644 "$WORK/www/whoami.json"
cat >"$NG/nginx.conf" <<EOF
worker_processes 2;
pid $NG/nginx.pid;
error_log $WORK/nginx.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/json;
  keepalive_requests 100000000;   # never close a benchmark connection (as gatehouse does not)
  client_body_temp_path $NG/tmp/body;
  proxy_temp_path $NG/tmp/proxy;
  fastcgi_temp_path $NG/tmp/fastcgi;
  uwsgi_temp_path $NG/tmp/uwsgi;
  scgi_temp_path $NG/tmp/scgi;
  server {
    listen 127.0.0.1:$NG_PORT reuseport;   # spreads connections over both workers
    # (a) public: answered in the rewrite phase
    location = /healthz { return 200 '{"status":"ok"}\n'; }
    # (b) Basic with bcrypt: a static file, because 'return' would answer before auth_basic runs
    location = /auth/whoami {
      auth_basic "bench";
      auth_basic_user_file $HTPASSWD;
      alias $WORK/www/whoami.json;
    }
  }
}
EOF
start nginx nginx -p "$NG" -e "$WORK/nginx.log" -c "$NG/nginx.conf" -g 'daemon off;'

# ----------------------------------------------------------------------------------------- Apache
# mpm_event, 2 processes x 64 threads (either process can hold all 64 connections; with 32 threads
# each, wrk saw read errors, probably event closing keep-alive connections of the busier process;
# no process spawning during the run),
# mod_auth_digest (MD5: the only algorithm Apache 2.4 has) over the htdigest file's MD5 line,
# serving a small static file. Apache refuses to run as root: its children run as www-data.
AP="$WORK/apache"
AP_MODULES=/usr/lib/apache2/modules
mkdir -p "$AP/www/auth"
printf '{"user":"%s","scheme":"digest"}\n' "$DG_USER" >"$AP/www/auth/whoami"
chmod 0755 "$AP" "$AP/www" "$AP/www/auth" && chmod 0644 "$AP/www/auth/whoami"
cat >"$AP/httpd.conf" <<EOF
ServerRoot $AP
ServerName 127.0.0.1
Listen 127.0.0.1:$AP_PORT
PidFile $AP/httpd.pid
DefaultRuntimeDir $AP
ErrorLog $WORK/apache.log
LogLevel warn
LoadModule mpm_event_module $AP_MODULES/mod_mpm_event.so
LoadModule authn_core_module $AP_MODULES/mod_authn_core.so
LoadModule authn_file_module $AP_MODULES/mod_authn_file.so
LoadModule authz_core_module $AP_MODULES/mod_authz_core.so
LoadModule authz_user_module $AP_MODULES/mod_authz_user.so
LoadModule auth_digest_module $AP_MODULES/mod_auth_digest.so
LoadModule mime_module $AP_MODULES/mod_mime.so
TypesConfig /dev/null
User www-data
Group www-data
StartServers 2
ServerLimit 2
ThreadsPerChild 64
MaxRequestWorkers 128
MinSpareThreads 32
MaxSpareThreads 128
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
DocumentRoot $AP/www
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory $AP/www>
  Require all granted
</Directory>
<Location /auth/whoami>
  ForceType application/json
  AuthType Digest
  AuthName "$DG_REALM"
  AuthDigestProvider file
  AuthUserFile $HTDIGEST
  AuthDigestAlgorithm MD5
  AuthDigestQop auth
  AuthDigestNonceLifetime 3600
  Require valid-user
</Location>
EOF
start apache apache2 -f "$AP/httpd.conf" -D FOREGROUND

# ---------------------------------------------------------------------------------------- uvicorn
start uvicorn env BENCH_API_KEY="$API_KEY" BENCH_API_KEY_USER="$DB_USER" BENCH_HTPASSWD="$HTPASSWD" \
  BENCH_JWKS="$WORK/jwks.json" BENCH_ISSUER="$GHB" BENCH_AUDIENCE=gatehouse \
  "$PY" -m uvicorn fastapi_app:app --app-dir "$ROOT/bench" --host 127.0.0.1 --port "$UV_PORT" \
  --workers 2 --no-access-log --log-level warning ${UVICORN_ARGS:-}

wait_ready nginx "http://127.0.0.1:$NG_PORT/healthz"
wait_ready uvicorn "http://127.0.0.1:$UV_PORT/healthz"
wait_ready apache "http://127.0.0.1:$AP_PORT/"
sleep 1  # let uvicorn's second worker come up

NGB="http://127.0.0.1:$NG_PORT"
UVB="http://127.0.0.1:$UV_PORT"
APB="http://127.0.0.1:$AP_PORT"

# ----------------------------------------------------------------------------- correctness checks
# A peer that lets everyone in looks very fast: check 200 for good and 401 for bad credentials.
CHECK_FAILED=0
check() {  # check WANT_STATUS WANT_BODY_SUBSTRING WHAT URL [curl args...]
  local want=$1 body_want=$2 what=$3 url=$4
  shift 4
  local body="$WORK/check.body" got
  got=$(curl -s -o "$body" -w '%{http_code}' --max-time 20 "$@" "$url" || echo "000")
  if [[ $got != "$want" ]] || { [[ -n $body_want ]] && ! grep -q -- "$body_want" "$body"; }; then
    say "CHECK FAILED: $url, $what -> $got (want $want${body_want:+ with $body_want})"
    CHECK_FAILED=1
  else
    say "ok  $got  $url, $what${body_want:+ -> $body_want}"
  fi
}
H_KEY=(-H "X-API-Key: $API_KEY")
BAD_KEY="${API_KEY%?}$([[ ${API_KEY: -1} == 0 ]] && echo 1 || echo 0)"
H_BADKEY=(-H "X-API-Key: $BAD_KEY")
H_DB=(-H "Authorization: Basic $(b64 "$DB_USER:$DB_PASS")")
H_DBBAD=(-H "Authorization: Basic $(b64 "$DB_USER:wrong-$DB_PASS")")
H_HT=(-H "Authorization: Basic $(b64 "$HT_USER:$HT_PASS")")
H_HTBAD=(-H "Authorization: Basic $(b64 "$HT_USER:wrong-$HT_PASS")")

for peer in gatehouse uvicorn; do
  base=$([[ $peer == gatehouse ]] && echo "$GHB" || echo "$UVB")
  check 200 '' "public" "$base/healthz"
  check 401 '' "no credentials" "$base/auth/whoami"
  check 200 "\"$DB_USER\"" "good API key" "$base/auth/whoami" "${H_KEY[@]}"
  check 401 '' "wrong API key" "$base/auth/whoami" "${H_BADKEY[@]}"
  check 200 "\"$HT_USER\"" "Basic $HT_USER (bcrypt htpasswd)" "$base/auth/whoami" "${H_HT[@]}"
  check 401 '' "Basic $HT_USER, wrong password" "$base/auth/whoami" "${H_HTBAD[@]}"
  if [[ $peer == gatehouse ]]; then  # the argon2id user exists only in gatehouse's database
    check 200 "\"$DB_USER\"" "Basic $DB_USER (argon2id db)" "$base/auth/whoami" "${H_DB[@]}"
    check 401 '' "Basic $DB_USER, wrong password" "$base/auth/whoami" "${H_DBBAD[@]}"
  fi
done
# Bearer: an access token from a Basic login (argon2id db user); gatehouse verifies it once and then
# serves it from its cache, uvicorn verifies it with PyJWT on every request.
login() {  # login FIELD: log in as $DB_USER with Basic, print FIELD of the token response
  curl -s --max-time 20 -u "$DB_USER:$DB_PASS" -X POST "$GHB/auth/login" |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
flip_mid() {  # flip_mid JWT: the same token with one character of the signature's middle changed
  local t=$1 i=$((${#1} - 40))
  printf '%s%s%s' "${t:0:i}" "$([[ ${t:i:1} == A ]] && echo B || echo A)" "${t:i+1}"
}
ACCESS=$(login access_token) || die "gatehouse login failed"
[[ $ACCESS == ey* ]] || die "gatehouse login gave no access token"
H_BEARER=(-H "Authorization: Bearer $ACCESS")
H_BEARERBAD=(-H "Authorization: Bearer $(flip_mid "$ACCESS")")
check 200 '"bearer"' "Bearer EdDSA access token" "$GHB/auth/whoami" "${H_BEARER[@]}"
check 401 '' "Bearer, signature changed" "$GHB/auth/whoami" "${H_BEARERBAD[@]}"
check 200 "\"$DB_USER\"" "Bearer, PyJWT (same token)" "$UVB/bearer/whoami" "${H_BEARER[@]}"
check 401 '' "Bearer, PyJWT, signature changed" "$UVB/bearer/whoami" "${H_BEARERBAD[@]}"
check 401 '' "Bearer, PyJWT, no token" "$UVB/bearer/whoami"
REFRESH=$(login refresh_token) || die "gatehouse login failed"
check 200 '"refresh_token":"ghr_' "refresh (rotation)" "$GHB/auth/refresh" \
  -H 'Content-Type: application/json' -d "{\"refresh_token\":\"$REFRESH\"}"
check 401 '' "refresh with a forged token" "$GHB/auth/refresh" \
  -H 'Content-Type: application/json' -d "{\"refresh_token\":\"${REFRESH%?????}AAAAA\"}"
check 200 '' "public (return 200)" "$NGB/healthz"
check 401 '' "no credentials" "$NGB/auth/whoami"
check 200 "\"$HT_USER\"" "Basic $HT_USER (bcrypt htpasswd)" "$NGB/auth/whoami" "${H_HT[@]}"
check 401 '' "Basic $HT_USER, wrong password" "$NGB/auth/whoami" "${H_HTBAD[@]}"
# Digest: headers computed by bench/digest_client.py for a fresh challenge (nc=00000001), and curl's
# own Digest as a second client (curl answers the first challenge: SHA-256 on gatehouse).
digest_header() {  # digest_header BASE ALGORITHM PASSWORD
  "$PY" "$ROOT/bench/digest_client.py" header "$1/auth/whoami" "$2" "$DG_USER" <<<"$3" ||
    echo "Digest no-challenge"
}
for peer in gatehouse apache; do
  base=$([[ $peer == gatehouse ]] && echo "$GHB" || echo "$APB")
  algs=$([[ $peer == gatehouse ]] && echo "MD5 SHA-256" || echo "MD5")
  for alg in $algs; do
    good=$(digest_header "$base" "$alg" "$DG_PASS")
    check 200 "\"$DG_USER\"" "Digest $alg $DG_USER" "$base/auth/whoami" -H "Authorization: $good"
    if [[ $peer == gatehouse ]]; then  # Apache does not check nc by default (AuthDigestNcCheck Off)
      check 401 '' "Digest $alg $DG_USER, the same nc again (replay)" "$base/auth/whoami" \
        -H "Authorization: $good"
    fi
    bad=$(digest_header "$base" "$alg" "wrong-$DG_PASS")
    check 401 '' "Digest $alg $DG_USER, wrong password" "$base/auth/whoami" -H "Authorization: $bad"
  done
  check 200 "\"$DG_USER\"" "curl --digest $DG_USER" "$base/auth/whoami" --digest -u "$DG_USER:$DG_PASS"
  check 401 '' "curl --digest $DG_USER, wrong password" "$base/auth/whoami" \
    --digest -u "$DG_USER:wrong-$DG_PASS"
done
check 401 '' "no credentials" "$APB/auth/whoami"
((CHECK_FAILED == 0)) || die "a peer failed its credential checks; not benchmarking it"

# Challenges for bench/digest.lua: per wrk thread, one nonce per "slot" (connections per thread +
# 16); each slot reuses its nonce with an increasing nc (see the top of bench/digest.lua).
DIGEST_SLOTS=$((CONNECTIONS / WRK_THREADS + 16))
for spec in gatehouse:MD5:"$GHB" gatehouse:SHA-256:"$GHB" apache:MD5:"$APB"; do
  IFS=: read -r peer alg base <<<"$spec"
  "$PY" "$ROOT/bench/digest_client.py" challenges "$base/auth/whoami" "$alg" \
    $((WRK_THREADS * DIGEST_SLOTS)) >"$WORK/challenges.$peer.$alg" ||
    die "could not fetch $alg challenges from $peer"
done

# ------------------------------------------------------------------------------------------- load
{
  echo "date_utc: $(date -u '+%Y-%m-%d %H:%M:%S')"
  echo "host: $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "load_before: $(cut -d' ' -f1-3 /proc/loadavg); compilers running: $(pgrep -c cc1plus || true)"
  echo "gatehouse: $("$GATEHOUSE_BIN" --version 2>&1 | head -1) ($GATEHOUSE_BIN), threads=2, access log off"
  echo "nginx: $(nginx -v 2>&1 | sed 's/.*: //'), 2 workers, reuseport, access_log off"
  echo "apache: $(apache2 -v | sed -n 's/^Server version: //p'), mpm_event 2 x 64 threads, mod_auth_digest MD5 qop=auth, AuthDigestNcCheck off (default), no access log"
  echo "digest: bench/digest.lua, $DIGEST_SLOTS nonces per wrk thread, each reused with an increasing nc; gatehouse nonce_lifetime 1h, Apache AuthDigestNonceLifetime 3600"
  echo "uvicorn: $("$PY" -c 'import uvicorn, fastapi; print(uvicorn.__version__, "fastapi", fastapi.__version__)'), 2 workers, ${UVICORN_ARGS:-loop=$("$PY" -c 'import uvloop' 2>/dev/null && echo uvloop || echo asyncio), http=$("$PY" -c 'import httptools' 2>/dev/null && echo httptools || echo h11)}"
  echo "bearer: gatehouse [tokens] alg EdDSA (default), access token from a login just before the row, verified once then served from the verified-token cache (revocation and user checked per request); uvicorn /bearer/whoami: PyJWT $("$PY" -c 'import jwt; print(jwt.__version__)'), cryptography $("$PY" -c 'import cryptography; print(cryptography.__version__)'), EdDSA verify + exp/nbf/iat/iss/aud/typ on every request, no cache"
  echo "refresh: bench/refresh.lua, wrk -t$REFRESH_CONNECTIONS -c$REFRESH_CONNECTIONS (one chain per connection, each from its own login), POST /auth/refresh; SQLite WAL synchronous=FULL on $(df -T "$WORK" | awk 'NR==2 {print $2 " (" $1 ")"}')"
  echo "wrk: -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s --latency --timeout 10s"
  echo "bcrypt cost: $BCRYPT_COST (htpasswd -B), argon2id: gatehouse default"
} >"$RESULTS/env.txt"

LOAD1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$LOAD1" 'BEGIN { exit !(l > 0.5) }'; then
  say "warning: load average $LOAD1 before the run: other processes share the cores and lower"
  say "         every row; compare ratios, and prefer a run on an otherwise idle machine"
fi

ROWS=()
bench() {  # bench NAME URL [wrk args...]; BENCH_THREADS / BENCH_CONNECTIONS override -t / -c
  local name=$1 url=$2
  local threads=${BENCH_THREADS:-$WRK_THREADS} connections=${BENCH_CONNECTIONS:-$CONNECTIONS}
  shift 2
  say "wrk ${DURATION}s: $name ($url, -t$threads -c$connections)"
  timeout -k 5 $((DURATION + 20)) wrk -t"$threads" -c"$connections" -d"${DURATION}s" \
    --timeout 10s --latency "$@" "$url" >"$RESULTS/$name.wrk.txt" 2>&1 ||
    say "wrk failed for $name (see $RESULTS/$name.wrk.txt)"
  ROWS+=("$name")
}
bench gatehouse_public "$GHB/healthz"
bench gatehouse_apikey "$GHB/auth/whoami" "${H_KEY[@]}"
ACCESS=$(login access_token) || die "gatehouse login failed"  # a fresh token: 600 s to live
bench gatehouse_bearer_eddsa "$GHB/auth/whoami" -H "Authorization: Bearer $ACCESS"
bench gatehouse_basic_argon2id_db "$GHB/auth/whoami" "${H_DB[@]}"
bench gatehouse_basic_bcrypt_htpasswd "$GHB/auth/whoami" "${H_HT[@]}"
digest_bench() {  # digest_bench NAME PEER ALGORITHM BASE
  DIGEST_NONCES="$WORK/challenges.$2.$3" DIGEST_SLOTS=$DIGEST_SLOTS DIGEST_USER=$DG_USER \
    DIGEST_PASSWORD=$DG_PASS DIGEST_ALGORITHM=$3 bench "$1" "$4/auth/whoami" -s "$ROOT/bench/digest.lua"
}
digest_bench gatehouse_digest_md5 gatehouse MD5 "$GHB"
digest_bench gatehouse_digest_sha256 gatehouse SHA-256 "$GHB"
# Refresh: one session (login) per chain; each connection presents the refresh token of its
# previous response. Afterwards the store itself says how many rotations were committed.
: >"$WORK/refresh_tokens"
for _ in $(seq "$REFRESH_CONNECTIONS"); do
  t=$(login refresh_token) || die "gatehouse login failed"
  [[ $t == ghr_* ]] || die "gatehouse login gave no refresh token"
  echo "$t" >>"$WORK/refresh_tokens"
done
REFRESH_TOKENS="$WORK/refresh_tokens" BENCH_THREADS=$REFRESH_CONNECTIONS \
  BENCH_CONNECTIONS=$REFRESH_CONNECTIONS bench gatehouse_refresh_sqlite "$GHB/auth/refresh" \
  -s "$ROOT/bench/refresh.lua"
"$PY" - "$GH_DATA/gatehouse.db" "$WORK/refresh_tokens" >"$RESULTS/gatehouse_refresh_db.txt" <<'PYEOF' ||
import sqlite3, sys
ids = [line.split("_")[1] for line in open(sys.argv[2]) if line.startswith("ghr_")]
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
q = f"SELECT count(*), sum(generation - 1), sum(revoked IS NOT NULL) FROM sessions WHERE id IN ({','.join('?' * len(ids))})"
n, rotations, revoked = db.execute(q, ids).fetchone()
print(f"sessions: {n}\nrotations committed: {rotations}\nrevoked: {revoked}")
PYEOF
  say "could not read the refresh rotations from the store"
# The tracker (SPEC §9): XML-RPC display and REST item GET on the demo tracker, as the db user
# (Basic, verified once then cached) and with a bearer token.
XMLRPC_BODY=$("$PY" -c 'import xmlrpc.client; print(xmlrpc.client.dumps(("issue1","title","status"),"display"))')
check 200 '<name>status</name>' "XML-RPC display issue1 (Basic)" "$GHB/demo/xmlrpc" "${H_DB[@]}" \
  -H 'Content-Type: text/xml' --data-binary "$XMLRPC_BODY"
check 200 '"attributes"' "REST GET issue 1 (Basic)" "$GHB/demo/rest/data/issue/1" "${H_DB[@]}"
((CHECK_FAILED)) && die "a tracker check failed; not benchmarking it"
bench gatehouse_xmlrpc_display_basic "$GHB/demo/xmlrpc" "${H_DB[@]}" -s "$ROOT/bench/xmlrpc.lua"
ACCESS=$(login access_token) || die "gatehouse login failed"
bench gatehouse_xmlrpc_display_bearer "$GHB/demo/xmlrpc" -H "Authorization: Bearer $ACCESS" \
  -s "$ROOT/bench/xmlrpc.lua"
bench gatehouse_rest_item_basic "$GHB/demo/rest/data/issue/1" "${H_DB[@]}"
bench gatehouse_rest_item_bearer "$GHB/demo/rest/data/issue/1" -H "Authorization: Bearer $ACCESS"
curl -s --max-time 5 "$GHB/metrics" >"$RESULTS/gatehouse_metrics.txt" || true
bench nginx_return200 "$NGB/healthz"
bench nginx_auth_basic_bcrypt "$NGB/auth/whoami" "${H_HT[@]}"
digest_bench apache_digest_md5 apache MD5 "$APB"
bench uvicorn_public "$UVB/healthz"
bench uvicorn_apikey "$UVB/auth/whoami" "${H_KEY[@]}"
ACCESS=$(login access_token) || die "gatehouse login failed"
bench uvicorn_bearer_pyjwt "$UVB/bearer/whoami" -H "Authorization: Bearer $ACCESS"
bench uvicorn_basic_bcrypt "$UVB/auth/whoami" "${H_HT[@]}"

"$PY" "$ROOT/bench/report.py" "$RESULTS" | tee "$RESULTS/table.txt"
ln -sfn "$STAMP" "$RESULTS_ROOT/latest"
say "results in $RESULTS (bench/results/latest)"
