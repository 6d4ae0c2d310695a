#!/usr/bin/env bash
# bench/alerts.sh - the alert runner's targets, each figure printed beside its goal (and a
# baseline measured in the same run where there is a fair one). 10,000 alerts
# `@every 1m` on a SQLite connection, `SELECT 1 AS one`, rule any_rows, no channels (every
# run is recorded in the SQLite state store, nothing is sent):
#   throughput: `alert run --once` over the 10,000 alerts with scheduler.workers 2 and 4,
#     median of BENCH_ALERT_RUNS (3) runs -> evaluations/s (goal >= 5000/s on 2 cores). The
#     wall time includes process start and loading the 10,000-alert configuration (~0.1 s).
#     Baseline: one sqlite3 CLI process doing the same SQL per evaluation (the alert query,
#     then the state store's claim, status read and record transaction, as in
#     src/alert/store_sql.c, SQLite path), literal values, one connection, one thread. It is
#     what the recorded SQLite work costs on this disk (two commits per evaluation), not a
#     competitor: it has no scheduling, binding or result handling.
#   idle: `alert run` in the background. @every 1m fires all 10,000 at each minute boundary;
#     after the first boundary's burst has been recorded, process CPU (utime+stime from
#     /proc/PID/stat) over a window that contains no boundary: from 1 s after the burst to
#     second 58 of that minute, at least 20 s when the burst ended by second 37 (otherwise the
#     shorter window is printed as such). Goal < 2 % of one core. Peak RSS (VmHWM) after the
#     burst: goal < 64 MB. The burst's CPU time and wall time are informational. Then SIGTERM:
#     the runner must exit 0.
# Takes 1.5 to 3 minutes (waits for a minute boundary). Never fails on a number: it exits
# non-zero only when clariq itself fails (non-zero exit, runs not recorded, crash).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CLARIQ_BIN:-$PWD/build/release/clariq}
RUNS=${BENCH_ALERT_RUNS:-3}
N=10000
W=$(mktemp -d /tmp/clariq-bench-alerts.XXXXXX)
RUNNER_PID=
cleanup() {
    if [ -n "$RUNNER_PID" ] && kill -0 "$RUNNER_PID" 2>/dev/null; then
        kill -KILL "$RUNNER_PID" 2>/dev/null || true
    fi
    rm -rf "$W"
}
trap cleanup EXIT

[ -x "$BIN" ] || { echo "bench: build first (make build): $BIN missing" >&2; exit 1; }
for c in sqlite3 /usr/bin/time getconf; do
    command -v "$c" >/dev/null || { echo "bench: $c missing (scripts/deps.sh bench)" >&2; exit 1; }
done
TCK=$(getconf CLK_TCK)
fail() { echo "bench alerts: FAIL: $*" >&2; exit 1; }

sqlite3 "$W/data.db" 'CREATE TABLE t(x)'

# conf STATE_DB WORKERS [N]: the configuration on stdout
conf() {
    local n=${3:-$N}
    printf 'connections:\n  lite: {driver: sqlite, path: %s}\n' "$W/data.db"
    printf 'state: {path: %s}\nscheduler: {workers: %s}\nalerts:\n' "$1" "$2"
    awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++)
        printf "  - {id: a%d, connection: lite, sql: SELECT 1 AS one, schedule: \"@every 1m\", rule: any_rows}\n", i }'
}
runs_in() { sqlite3 "$1" 'SELECT count(*) FROM clariq_alert_runs' 2>/dev/null || echo 0; }

echo "clariq alert runner benchmarks ($(nproc) cores, $N alerts @every 1m on SQLite SELECT 1; $(date -u +%F))"

# ---- 1. throughput of alert run --once ---------------------------------------------------
conf "$W/state.db" 2 > "$W/w2.yaml"
conf "$W/state.db" 4 > "$W/w4.yaml"
conf "$W/state.db" 2 1 > "$W/one.yaml"
# the state tables first (one alert), so that every timed run does the same work
"$BIN" --config "$W/one.yaml" alert run --once || fail "alert run --once (1 alert) exited $?"

# once CONF: prints "wall cpu rss_mb" of one `alert run --once`; checks N runs were recorded
once() {
    local before after out rc=0
    before=$(runs_in "$W/state.db")
    out=$(/usr/bin/time -f '%e %U %S %M' "$BIN" --config "$1" alert run --once 2>&1 >/dev/null) || rc=$?
    [ "$rc" = 0 ] || { echo "$out" >&2; fail "alert run --once ($1) exited $rc"; }
    after=$(runs_in "$W/state.db")
    [ $((after - before)) = "$N" ] || fail "alert run --once recorded $((after - before)) runs, not $N"
    echo "$out" | tail -1 | awk '{ printf "%s %.2f %.1f\n", $1, $2 + $3, $4 / 1024 }'
}
# throughput WORKERS: median of RUNS runs -> one line
throughput() {
    local i wall cpu rss
    : > "$W/t$1"
    for ((i = 0; i < RUNS; i++)); do once "$W/w$1.yaml" >> "$W/t$1"; done
    read -r wall cpu rss < <(sort -n "$W/t$1" | awk -v r="$RUNS" 'NR == int((r + 1) / 2)')
    [ -n "$wall" ] || fail "alert run --once ($1 workers) gave no timing"
    printf '%-44s %7.0f /s   (%5.2f s wall, %5.2f s cpu, peak RSS %5.1f MB)   goal >= 5000/s\n' \
        "alert run --once, $1 workers:" "$(awk -v t="$wall" -v n="$N" 'BEGIN { print n / t }')" \
        "$wall" "$cpu" "$rss"
}
throughput 2
throughput 4

# baseline: the same SQL per evaluation from one sqlite3 process, on a copy of the schema
sqlite3 "$W/state.db" .schema | grep -v '^CREATE TABLE sqlite_sequence' > "$W/schema.sql"
{ echo 'PRAGMA journal_mode=WAL;'; cat "$W/schema.sql"; } | sqlite3 -bail "$W/base.db" > /dev/null
awk -v n="$N" 'BEGIN {
    slot = 1700000000000; now = slot + 5
    for (i = 1; i <= n; i++) {
        a = "a" i
        print "SELECT 1 AS one;"
        printf "INSERT INTO clariq_alert_claims (alert_id, slot_ms, runner, claimed_ms, lease_until_ms) SELECT '\''%s'\'', %d, '\''bench'\'', %d, %d WHERE NOT EXISTS (SELECT 1 FROM clariq_alert_status WHERE alert_id = '\''%s'\'' AND last_slot_ms >= %d) ON CONFLICT (alert_id, slot_ms) DO UPDATE SET runner = excluded.runner, claimed_ms = excluded.claimed_ms, lease_until_ms = excluded.lease_until_ms WHERE clariq_alert_claims.done_ms IS NULL AND clariq_alert_claims.lease_until_ms <= excluded.claimed_ms RETURNING runner;\n", a, slot, now, now + 60000, a, slot
        printf "SELECT state, last_run_ms, last_slot_ms, last_notified_ms, last_notified_state, fingerprint, value FROM clariq_alert_status WHERE alert_id = '\''%s'\'';\n", a
        print "BEGIN IMMEDIATE;"
        printf "INSERT INTO clariq_alert_runs (alert_id, slot_ms, run_at_ms, state, reason, value, row_count, duration_ms, error, fingerprint, notified_state) VALUES ('\''%s'\'', %d, %d, '\''triggered'\'', '\''1 row'\'', NULL, 1, 0.05, NULL, '\''f'\'', '\''triggered'\'') RETURNING id;\n", a, slot, now
        printf "INSERT INTO clariq_alert_status (alert_id, state, last_run_ms, last_slot_ms, value, last_notified_ms, last_notified_state, fingerprint) VALUES ('\''%s'\'', '\''triggered'\'', %d, %d, NULL, %d, '\''triggered'\'', '\''f'\'') ON CONFLICT (alert_id) DO UPDATE SET state = excluded.state, last_run_ms = excluded.last_run_ms, last_slot_ms = CASE WHEN excluded.last_slot_ms > clariq_alert_status.last_slot_ms THEN excluded.last_slot_ms ELSE clariq_alert_status.last_slot_ms END, value = CASE WHEN excluded.state = '\''error'\'' THEN clariq_alert_status.value ELSE excluded.value END, last_notified_ms = COALESCE(excluded.last_notified_ms, clariq_alert_status.last_notified_ms), last_notified_state = CASE WHEN excluded.last_notified_ms IS NULL THEN clariq_alert_status.last_notified_state ELSE excluded.last_notified_state END, fingerprint = CASE WHEN excluded.last_notified_ms IS NULL THEN clariq_alert_status.fingerprint ELSE excluded.fingerprint END;\n", a, now, slot, now
        printf "UPDATE clariq_alert_claims SET done_ms = %d WHERE alert_id = '\''%s'\'' AND slot_ms = %d;\n", now, a, slot
        print "COMMIT;"
    }
}' > "$W/base.sql"
base=$(/usr/bin/time -f '%e' sqlite3 -bail "$W/base.db" < "$W/base.sql" 2>&1 >/dev/null) ||
    fail "baseline: sqlite3 failed: $(echo "$base" | head -3)"
base=$(echo "$base" | tail -1)
[ "$(runs_in "$W/base.db")" = "$N" ] || fail "baseline: sqlite3 did not record $N runs"
printf '%-44s %7.0f /s   (%5.2f s wall)   same SQL per evaluation, 1 thread\n' \
    "baseline: sqlite3 CLI, one process:" "$(awk -v t="$base" -v n="$N" 'BEGIN { print n / t }')" "$base"

# ---- 2. idle CPU, RSS and the minute burst of alert run -----------------------------------
conf "$W/idle.db" 2 > "$W/idle.yaml"
sec() { date +%-S; }
ticks() { awk '{ print $14 + $15 }' "/proc/$RUNNER_PID/stat" 2>/dev/null || echo -1; }
alive() { kill -0 "$RUNNER_PID" 2>/dev/null || fail "alert run died: $(tail -5 "$W/runner.err")"; }
now() { date +%s.%N; }

# not too close to a boundary, so that starting up is not mixed with the burst
while [ "$(sec)" -ge 55 ]; do sleep 0.5; done
"$BIN" --config "$W/idle.yaml" alert run > /dev/null 2> "$W/runner.err" &
RUNNER_PID=$!
minute=$(date +%M)
t_pre=$(ticks)
# the last sample before the boundary gives the CPU at the start of the burst
while [ "$(date +%M)" = "$minute" ]; do
    alive
    t_pre=$(ticks)
    sleep 0.2
done
t_boundary=$(( $(date +%s) / 60 * 60 ))
# the burst is over when every alert has recorded its run (it must end before second 58)
done_n=0
while done_n=$(runs_in "$W/idle.db") && [ "$done_n" -lt "$N" ] &&
    [ "$(date +%s)" -lt $((t_boundary + 58)) ]; do
    alive
    sleep 0.2
done
burst_wall=$(awk -v a="$(now)" -v b="$t_boundary" 'BEGIN { printf "%.1f", a - b }')
t_post=$(ticks)
if [ "$done_n" -ge "$N" ]; then
    printf '%-44s %7.2f s cpu   (%.1f s wall, %d evaluations: %.0f /s)   informational\n' \
        "burst at the minute boundary:" \
        "$(awk -v a="$t_post" -v b="$t_pre" -v k="$TCK" 'BEGIN { print (a - b) / k }')" \
        "$burst_wall" "$N" "$(awk -v t="$burst_wall" -v n="$N" 'BEGIN { print n / t }')"
else
    printf '%-44s %7.2f s cpu   (%d of %d evaluations recorded in %.1f s)   informational\n' \
        "burst at the minute boundary: NOT FINISHED" \
        "$(awk -v a="$t_post" -v b="$t_pre" -v k="$TCK" 'BEGIN { print (a - b) / k }')" \
        "$done_n" "$N" "$burst_wall"
fi

# idle window: 1 s after the burst up to second 58 (no boundary inside)
sleep 1
alive
end=$((58 - $(sec)))
if [ "$done_n" -ge "$N" ] && [ "$end" -ge 5 ]; then
    w0=$(now) c0=$(ticks)
    sleep "$end"
    alive
    w1=$(now) c1=$(ticks)
    win=$(awk -v a="$w1" -v b="$w0" 'BEGIN { print a - b }')
    note=""
    [ "$end" -ge 20 ] || note="   (window of only $end s: the burst ended late)"
    printf '%-44s %7.2f %% of a core   (%.2f s cpu over %.1f s)   goal < 2 %%%s\n' \
        "idle CPU between boundaries:" \
        "$(awk -v c="$((c1 - c0))" -v k="$TCK" -v w="$win" 'BEGIN { print 100 * c / k / w }')" \
        "$(awk -v c="$((c1 - c0))" -v k="$TCK" 'BEGIN { print c / k }')" "$win" "$note"
else
    echo "idle CPU between boundaries: not measured (the burst lasted until second $(sec): no window left)   goal < 2 %"
fi
hwm=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$RUNNER_PID/status")
rss=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$RUNNER_PID/status")
printf '%-44s %7.1f MB   (RSS now %.1f MB)   goal < 64 MB\n' "peak RSS (VmHWM) after the burst:" "$hwm" "$rss"

kill -TERM "$RUNNER_PID"
rc=0
wait "$RUNNER_PID" || rc=$?
RUNNER_PID=
[ "$rc" = 0 ] || fail "alert run exited $rc on SIGTERM: $(tail -5 "$W/runner.err")"
echo "alert run: SIGTERM -> exit 0"
