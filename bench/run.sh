#!/usr/bin/env bash
# bench/run.sh - the foundation's performance targets, each printed beside its baseline
# measured in the same run on the same machine (medians of several runs):
#   1M rows (int, text, numeric, timestamp) from PostgreSQL: clariq --format csv vs
#     psql \copy CSV (goal <= 1.0x); clariq --format json vs psql CSV (goal <= 1.2x);
#     clariq peak RSS at 1M and 5M rows (goal < 32 MB)
#   the same 1M rows from SQLite: clariq --format json vs sqlite3 -json (goal <= 1.0x)
#   process wall time of `clariq run -c pg "SELECT 1"` vs `psql -c "SELECT 1"` (goal <= 1.0x)
#   the alert runner with 10,000 alerts: bench/alerts.sh (its own figures and goals)
#   governed query compiles/s for six queries: cq-bench-dsl (bench/dsl_bench.c)
#   clariq serve over HTTP with wrk: bench/http.sh (its own figures, baselines and goals)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CLARIQ_BIN:-$PWD/build/release/clariq}
RUNS=${BENCH_RUNS:-5}
W=$(mktemp -d /tmp/clariq-bench.XXXXXX)
chmod 755 "$W"
trap 'bash tests/integration/itenv.sh down "$W/pg" >/dev/null 2>&1; rm -rf "$W"' EXIT

[ -x "$BIN" ] || { echo "bench: build first (make build): $BIN missing" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time missing (apt install time)" >&2; exit 1; }

bash tests/integration/itenv.sh up "$W/pg" > /dev/null
DSN=$(sed -n 's/^CQ_IT_PG_DSN=//p' "$W/pg/env")
PSQL=(psql -X -q -v ON_ERROR_STOP=1 "$DSN")

"${PSQL[@]}" <<'SQL'
CREATE TABLE t1m AS
  SELECT g AS id, 'name-' || g AS label, (g * 1.25)::numeric(12,2) AS amount,
         timestamp '2024-01-01' + g * interval '1 second' AS at
  FROM generate_series(1, 1000000) g;
CREATE TABLE t5m AS
  SELECT g AS id, 'name-' || g AS label, (g * 1.25)::numeric(12,2) AS amount,
         timestamp '2024-01-01' + g * interval '1 second' AS at
  FROM generate_series(1, 5000000) g;
VACUUM ANALYZE t1m;
VACUUM ANALYZE t5m;
SQL

sqlite3 "$W/t.db" <<'SQL'
CREATE TABLE t1m(id INTEGER, label TEXT, amount NUMERIC, at TIMESTAMP);
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000000)
INSERT INTO t1m SELECT n, 'name-' || n, n * 1.25, datetime('2024-01-01', '+' || n || ' seconds') FROM g;
SQL

cat > "$W/bench.yaml" <<YAML
connections:
  pg:
    driver: postgres
    url: $DSN
    limits: {timeout: 0, max_rows: 0, max_bytes: 0}
  lite:
    driver: sqlite
    path: $W/t.db
    limits: {timeout: 0, max_rows: 0, max_bytes: 0}
YAML
export CLARIQ_CONFIG=$W/bench.yaml

# median wall seconds of RUNS runs of a command (stdout discarded)
med() {
  local i t0 t1
  for ((i = 0; i < RUNS; i++)); do
    t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N)
    awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }'
  done | sort -n | awk '{a[NR]=$1} END {printf "%.4f", a[int((NR+1)/2)]}'
}
# peak RSS in MB of one run
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.1f", $1/1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
line() { printf '%-46s %9s s   baseline %9s s   ratio %5sx   goal %s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4"; }

echo "clariq benchmarks ($(nproc) cores, median of $RUNS runs; $(date -u +%F))"
q="SELECT * FROM t1m"
psql_csv=$(med "${PSQL[@]}" -c "\\copy ($q) to stdout csv")
csv=$(med "$BIN" run -c pg --format csv "$q")
json=$(med "$BIN" run -c pg --format json "$q")
line "PG 1M rows: clariq csv vs psql \\copy csv" "$csv" "$psql_csv" "<= 1.0x"
line "PG 1M rows: clariq json vs psql \\copy csv" "$json" "$psql_csv" "<= 1.2x"
echo "PG peak RSS: 1M rows json $(rss "$BIN" run -c pg --format json "$q") MB, 5M rows json $(rss "$BIN" run -c pg --format json "SELECT * FROM t5m") MB, 5M csv $(rss "$BIN" run -c pg --format csv "SELECT * FROM t5m") MB   goal < 32 MB (psql \\copy 5M: $(rss "${PSQL[@]}" -c "\\copy (SELECT * FROM t5m) to stdout csv") MB)"
sq_base=$(med sqlite3 -json "$W/t.db" "$q")
sq=$(med "$BIN" run -c lite --format json "$q")
line "SQLite 1M rows: clariq json vs sqlite3 -json" "$sq" "$sq_base" "<= 1.0x"
echo "SQLite peak RSS 1M rows json: $(rss "$BIN" run -c lite --format json "$q") MB"
one_psql=$(RUNS=$((RUNS * 4)) med "${PSQL[@]}" -c "SELECT 1")
one=$(RUNS=$((RUNS * 4)) med "$BIN" run -c pg --format json "SELECT 1")
line "process wall: clariq run SELECT 1 vs psql -c" "$one" "$one_psql" "<= 1.0x"

echo
CLARIQ_BIN=$BIN bash bench/alerts.sh
echo
"$(dirname "$BIN")/cq-bench-dsl" tests/golden/dsl/catalog.json "${BENCH_DSL_SECS:-2}"
echo
CLARIQ_BIN=$BIN bash bench/http.sh
