#!/usr/bin/env bash
# bench/http.sh - `clariq serve` targets (issue 5), each figure printed beside a baseline
# measured in the same run on the same machine, with wrk on loopback (2 wrk threads unless
# said otherwise):
#   GET /health (a config without connections, so the figure is the HTTP layer: auth,
#     routing, request id, handler, access log, metrics) vs cq-bench-mhd-hello, a minimal
#     libmicrohttpd server on its own epoll threads, one per core (bench/mhd_hello.c):
#     goal >= 80 %
#   POST /query executeMode sql-only (validate, plan, generate; no database): goal >=
#     50,000 requests/s
#   POST /query and POST /sql, a single-row primary-key lookup on pgbench_accounts (random
#     aid per request, like pgbench -S) with 16 wrk connections from one wrk thread (as
#     pgbench runs its 16 clients in one thread by default) and a pool of 16, vs the best
#     of `pgbench -S -c 16` with -j 1 and -j 2 (two runs each) on the same server: goal >=
#     70 %. Each wrk figure is the better of two runs as well. wrk sends
#     4,096 pre-built requests in turn (random aids), so its Lua does not format each one.
#   RSS of the server: idle after start < 10 MB; peak (VmHWM) after all the load < 64 MB
#     (VmRSS; the anonymous part, without shared library pages, is printed beside it)
# Every request carries an API key (auth: keys, no rate limit), as in production. The
# access log goes to /dev/null. A run whose responses are not all 2xx says so beside its
# figure. Never fails on a number: exits non-zero only when something does not run.
#   BENCH_HTTP_SECS   seconds per wrk run (default 10)
#   BENCH_HTTP_CONNS  wrk connections for /health and sql-only (default 32)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CLARIQ_BIN:-$PWD/build/release/clariq}
HELLO=${CQ_BENCH_HELLO:-$(dirname "$BIN")/cq-bench-mhd-hello}
SECS=${BENCH_HTTP_SECS:-10}
CONNS=${BENCH_HTTP_CONNS:-32}
KEY=bench-key-0123456789
W=$(mktemp -d /tmp/clariq-bench-http.XXXXXX)
chmod 755 "$W"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
    done
    bash tests/integration/itenv.sh down "$W/pg" >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT

for c in wrk pgbench psql curl; do
    command -v "$c" >/dev/null || { echo "bench: $c missing (scripts/deps.sh bench)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench: build first (make build): $BIN missing" >&2; exit 1; }
[ -x "$HELLO" ] || { echo "bench: $HELLO missing (built with clariq)" >&2; exit 1; }

port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
pick_port() {
    local p=$1
    while ! port_free "$p"; do p=$((p + 1)); done
    echo "$p"
}
# waits until GET url answers (any status); 10 s at most
wait_http() {
    local i
    for ((i = 0; i < 100; i++)); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "bench: nothing answers at $1" >&2
    return 1
}
rss_mb() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", 100 * a / b }'; }
# wrk, twice -> "<the better requests/s> <non-2xx count of both>". Every figure here, ours
# and the baselines', is the better of two runs: the machine is shared and noisy.
run_wrk() {
    local out rps bad best=0 allbad=0 i
    for i in 1 2; do
        out=$(wrk "$@" 2>&1) || { echo "$out" >&2; return 1; }
        rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
        bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$out")
        errs=$(awk '/Socket errors:/ { print }' <<<"$out")
        [ -n "$errs" ] && echo "bench: wrk: $errs" >&2
        [ "${rps:-0}" -gt "$best" ] && best=${rps:-0}
        allbad=$((allbad + ${bad:-0}))
    done
    echo "$best $allbad"
}
note() { [ "$1" = 0 ] && echo "" || echo "   ($1 non-2xx responses!)"; }
# starts `clariq serve` on a config (event loops: $3, default one per core); sets SERVE_PID
# and URL
serve() {
    local port
    port=$(pick_port "$2")
    sed -e "s/@PORT@/$port/" -e "s/@THREADS@/${3:-0}/" "$1" > "$1.run"
    "$BIN" --config "$1.run" serve --no-alerts >"$W/serve.log" 2>&1 &
    SERVE_PID=$!
    PIDS+=("$SERVE_PID")
    URL=http://127.0.0.1:$port
    wait_http "$URL/health"
}
stop() { kill "$1" 2>/dev/null && wait "$1" 2>/dev/null || true; }

bash tests/integration/itenv.sh up "$W/pg" >/dev/null
DSN=$(sed -n 's/^CQ_IT_PG_DSN=//p' "$W/pg/env")
[ -n "$DSN" ] || { echo "bench: PostgreSQL did not start" >&2; exit 1; }
pgbench -q -i -s 1 "$DSN" >/dev/null 2>&1
ROWS=100000

# --- the wrk scripts ---------------------------------------------------------------------------
cat > "$W/sqlonly.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
wrk.body = '{"definition":{"from":"accounts","columns":["aid","abalance"],'
  .. '"filters":[{"column":"aid","operator":"=","value":42}],"executeMode":"sql-only"},'
  .. '"context":{"roles":{"user":["bench"]}}}'
LUA
# pk.lua PATH BODY-FORMAT SEED: 4,096 requests with random aids, sent in turn
pk_lua() {
    cat <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
local reqs, i = {}, 0
math.randomseed(os.time() + $3)
for k = 1, 4096 do
  reqs[k] = wrk.format(nil, "$1", nil, string.format('$2', math.random(1, $ROWS)))
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
LUA
}
pk_lua /query '{"definition":{"from":"accounts","columns":["abalance"],'\
'"filters":[{"column":"aid","operator":"=","value":%d}]},'\
'"context":{"roles":{"user":["bench"]}}}' 0 > "$W/query.lua"
pk_lua /sql '{"connection":"pg",'\
'"sql":"SELECT abalance FROM pgbench_accounts WHERE aid = $1","params":[%d]}' 1 > "$W/sql.lua"

# --- configurations ------------------------------------------------------------------------------
cat > "$W/health.yaml" <<YAML
server:
  listen: 127.0.0.1:@PORT@
  access_log: false
  api_keys:
    - {name: bench, key: $KEY, roles: {user: [bench]}}
YAML
cat > "$W/pg.yaml" <<YAML
connections:
  pg:
    driver: postgres
    url: $DSN
    pool: {min: 16, max: 16, pipeline: 16}
    limits: {max_concurrent: 16}
catalog:
  databases:
    - {id: pg, engine: postgres}
  tables:
    - id: accounts
      apiName: accounts
      database: pg
      physicalName: public.pgbench_accounts
      columns:
        - {apiName: aid, physicalName: aid, type: int, nullable: false}
        - {apiName: bid, physicalName: bid, type: int, nullable: true}
        - {apiName: abalance, physicalName: abalance, type: int, nullable: true}
      primaryKey: [aid]
      relations: []
roles:
  - {id: bench, tables: "*"}
server:
  listen: 127.0.0.1:@PORT@
  access_log: false
  threads: @THREADS@
  api_keys:
    - {name: bench, key: $KEY, connections: [pg], roles: {user: [bench]}}
YAML

echo "clariq serve benchmarks ($(nproc) cores, wrk -t2 ${SECS}s per run; $(date -u +%F))"

# --- GET /health vs the hello server ------------------------------------------------------------
"$HELLO" 0 > "$W/hello.port" &
HELLO_PID=$!
PIDS+=("$HELLO_PID")
for ((i = 0; i < 50; i++)); do [ -s "$W/hello.port" ] && break; sleep 0.1; done
HELLO_URL=http://127.0.0.1:$(cat "$W/hello.port")
wait_http "$HELLO_URL/"
read -r base base_bad < <(run_wrk -t2 -c"$CONNS" -d"${SECS}s" "$HELLO_URL/health")
stop "$HELLO_PID"
serve "$W/health.yaml" 18080
idle_rss=$(rss_mb "$SERVE_PID" VmRSS)
idle_anon=$(rss_mb "$SERVE_PID" RssAnon)
read -r h h_bad < <(run_wrk -t2 -c"$CONNS" -d"${SECS}s" -H "Authorization: Bearer $KEY" \
    "$URL/health")
printf '%-44s %8s req/s   baseline %8s req/s (mhd hello)   %4s %%   goal >= 80 %%%s\n' \
    "GET /health vs minimal libmicrohttpd" "$h" "$base" "$(pct "$h" "$base")" "$(note "$h_bad")"
stop "$SERVE_PID"

# --- the PostgreSQL-backed runs -------------------------------------------------------------------
serve "$W/pg.yaml" 18090
idle_rss_pg=$(rss_mb "$SERVE_PID" VmRSS)
idle_anon_pg=$(rss_mb "$SERVE_PID" RssAnon)
# one request of each kind first: a benchmark of error answers would be worthless
probe() {
    local code
    code=$(curl -s -o "$W/probe.out" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
        -H 'Content-Type: application/json' --data "$2" "$URL$1") || true
    [ "$code" = 200 ] || echo "bench: probe $1 answered $code: $(head -c 300 "$W/probe.out")" >&2
}
pk='"filters":[{"column":"aid","operator":"=","value":7}]'
ctx='"context":{"roles":{"user":["bench"]}}'
probe /query "{\"definition\":{\"from\":\"accounts\",\"columns\":[\"abalance\"],$pk,\
\"executeMode\":\"sql-only\"},$ctx}"
probe /query "{\"definition\":{\"from\":\"accounts\",\"columns\":[\"abalance\"],$pk},$ctx}"
probe /sql '{"connection":"pg","sql":"SELECT abalance FROM pgbench_accounts WHERE aid = $1",
"params":[7]}'
read -r so so_bad < <(run_wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$W/sqlonly.lua" "$URL/query")
printf '%-44s %8s req/s   %-36s          goal >= 50000%s\n' "POST /query sql-only" "$so" "" \
    "$(note "$so_bad")"
# The lookups: one event loop, since PostgreSQL and wrk need the other core of two (with
# the database elsewhere, one loop per core is the better default).
peak_so=$(rss_mb "$SERVE_PID" VmHWM)
stop "$SERVE_PID"
serve "$W/pg.yaml" 18090 1
pgbench_tps() {
    pgbench -n -S -c 16 -j "$1" -T "$SECS" "$DSN" 2>/dev/null |
        awk '/^tps = / { printf "%.0f", $3 }'
}
pgb=0
for j in 1 2 1 2; do
    t=$(pgbench_tps "$j")
    echo "baseline: pgbench -S -c16 -j$j ${t:-0} tps"
    [ "${t:-0}" -gt "$pgb" ] && pgb=${t:-0}
done
read -r q q_bad < <(run_wrk -t1 -c16 -d"${SECS}s" -s "$W/query.lua" "$URL/query")
printf '%-44s %8s req/s   baseline %8s tps (pgbench -S -c16)   %4s %%   goal >= 70 %%%s\n' \
    "POST /query PK lookup, 16 connections" "$q" "$pgb" "$(pct "$q" "$pgb")" "$(note "$q_bad")"
read -r s s_bad < <(run_wrk -t1 -c16 -d"${SECS}s" -s "$W/sql.lua" "$URL/sql")
printf '%-44s %8s req/s   baseline %8s tps (pgbench -S -c16)   %4s %%   goal >= 70 %%%s\n' \
    "POST /sql PK lookup, 16 connections" "$s" "$pgb" "$(pct "$s" "$pgb")" "$(note "$s_bad")"
peak_rss=$(rss_mb "$SERVE_PID" VmHWM)
stop "$SERVE_PID"
echo "RSS idle: $idle_rss MB (no connections), $idle_rss_pg MB (16 PostgreSQL connections" \
    "open)   goal < 10 MB"
echo "   of which anonymous (not shared library pages): $idle_anon MB, $idle_anon_pg MB"
echo "RSS peak under the load above: $peak_rss MB (lookups), $peak_so MB (sql-only)   goal < 64 MB"
