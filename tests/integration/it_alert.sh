#!/usr/bin/env bash
# it_alert.sh - the alert runner end to end, with the real binary, the fixture PostgreSQL,
# a local webhook receiver (Slack and webhooks) and a real SMTP server on loopback:
#   the POC acceptance (clariq run JSON, then an any_rows alert -> one Slack message and
#   one e-mail), de-duplication, resolve, retry after a 500, alert test/list/history/
#   validate, kill -9 right after a trigger (no duplicate after restart), cooldown across
#   restarts, SIGHUP reload (bad file kept out), SIGTERM, and two runners sharing a
#   PostgreSQL state store (each slot evaluated exactly once).
set -uo pipefail

TEST=it_alert
. "$(dirname "$0")/lib.sh"
SUPPORT=$(cd "$(dirname "$0")/../support" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY3=/usr/bin/python3

SCHEMA=it_alert_$$
psql -q -X -v ON_ERROR_STOP=1 "$PG_DSN" >/dev/null <<SQL || { echo "FAIL: setup"; exit 1; }
CREATE SCHEMA $SCHEMA;
CREATE SCHEMA ${SCHEMA}_state;
CREATE TABLE $SCHEMA.orders (id int, status text);
INSERT INTO $SCHEMA.orders VALUES (1, 'pending'), (2, 'done'), (3, 'pending');
SQL
cleanup_hooks+=("psql -q -X '$PG_DSN' -c 'DROP SCHEMA $SCHEMA CASCADE; DROP SCHEMA ${SCHEMA}_state CASCADE' >/dev/null 2>&1")
sep='?'; case "$PG_DSN" in *\?*) sep='&' ;; esac
export APP_URL="${PG_DSN}${sep}options=-csearch_path%3D$SCHEMA"
export STATE_URL="${PG_DSN}${sep}options=-csearch_path%3D${SCHEMA}_state"

# ---- receivers -------------------------------------------------------------------------------

# http_start DIR [STATUS...] : webhook receiver; sets HPORT; stopped on exit
http_start() {
  local dir=$1; shift
  mkdir -p "$dir"
  "$PY3" "$SUPPORT/httpsink.py" "$dir" "$@" &
  local pid=$!
  cleanup_hooks+=("kill $pid 2>/dev/null")
  for _ in $(seq 100); do [ -f "$dir/port" ] && break; sleep 0.05; done
  HPORT=$(cat "$dir/port")
}

# smtp_start DIR : SMTP sink; sets SPORT
smtp_start() {
  mkdir -p "$1"
  "$PY3" "$SUPPORT/smtpsink.py" "$1" > "$1/stdout" 2>"$1/stderr" &
  local pid=$!
  cleanup_hooks+=("kill $pid 2>/dev/null")
  for _ in $(seq 100); do [ -s "$1/stdout" ] && break; sleep 0.05; done
  SPORT=$(head -1 "$1/stdout" | tr -dc 0-9)
}

count() { ls "$1" 2>/dev/null | grep -c "$2" || true; }

# wait_for N DIR PATTERN SECONDS : until DIR holds N files matching PATTERN
wait_for() {
  for _ in $(seq $(( $4 * 20 ))); do
    [ "$(count "$2" "$3")" -ge "$1" ] && return 0
    sleep 0.05
  done
  return 1
}

# eq NAME GOT WANT
eq() {
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $1: got '$2', want '$3'"; fi
}

http_start "$T/hook"
smtp_start "$T/mail"
[ -n "$SPORT" ] || { echo "FAIL: SMTP sink did not start: $(cat "$T/mail/stderr")"; exit 1; }

# conf FILE STATE ALERTS... : writes a config with the standard connections and channels
conf() {
  local file=$1 state=$2
  shift 2
  cat > "$file" <<YAML
connections:
  main: {url: "\${APP_URL}", read_only: true}
  statedb: {url: "\${STATE_URL}", read_only: false}
state: $state
scheduler: {workers: 2, shutdown_timeout: 5s}
channels:
  slack:
    type: slack
    webhook_url: http://127.0.0.1:$HPORT/services/T000/B000/SECRETXYZ
    retries: 3
    backoff: 100ms
  mail:
    type: email
    host: 127.0.0.1
    port: $SPORT
    tls: none
    from: clariq@example.com
    to: [ops@example.com]
    cc: [lead@example.com]
alerts:
YAML
  for a in "$@"; do printf '%s\n' "$a" >> "$file"; done
}

PENDING='  - id: pending
    name: Pending orders
    connection: main
    sql: SELECT id, status FROM orders WHERE status = $1 ORDER BY id
    params: [pending]
    schedule: "@every 1s"
    rule: any_rows
    message: "{{row_count}} orders pending"
    channels: [slack, mail]'

# ---- POC acceptance ---------------------------------------------------------------------------
conf "$T/a.yaml" "{path: $T/a-state.db}" "$PENDING"
t poc-run 0 -- "$BIN" --config "$T/a.yaml" run -c main --format json \
  "SELECT id, status FROM orders WHERE status = \$1 ORDER BY id" -p pending
pyck poc-run "$OUT" "j['rowCount'] == 2 and j['rows'][0] == {'id': 1, 'status': 'pending'}"

t poc-validate 0 -- "$BIN" --config "$T/a.yaml" alert validate
has poc-validate "$OUT" "ok: 1 alert (1 enabled), 2 channels"

t poc-once 0 -- "$BIN" --config "$T/a.yaml" alert run --once
wait_for 1 "$T/hook" '^req-' 5
wait_for 1 "$T/mail" '\.eml$' 5
eq poc-one-slack "$(count "$T/hook" '^req-')" 1
eq poc-one-mail "$(count "$T/mail" '\.eml$')" 1
pyck poc-slack-path "$T/hook/req-1.json" "j['path'] == '/services/T000/B000/SECRETXYZ'"
pyck poc-slack-body "$T/hook/req-1.json" \
  "'Pending orders' in j['body'] and '2 orders pending' in j['body'] and 'triggered' in j['body']"
pyck poc-slack-json "$T/hook/req-1.json" "isinstance(json.loads(j['body'])['blocks'], list)"
eml=$(ls "$T/mail"/*.eml | head -1)
has poc-mail-to "$eml" "To: ops@example.com"
has poc-mail-cc "$eml" "Cc: lead@example.com"
has poc-mail-subject "$eml" "Pending orders"
has poc-mail-plain "$eml" "text/plain"
has poc-mail-html "$eml" "text/html"

# Still triggered: no second notification (no cooldown: once until it resolves).
t dedup-once 0 -- "$BIN" --config "$T/a.yaml" alert run --once
sleep 0.3
eq dedup-no-second "$(count "$T/hook" '^req-')" 1
t history 0 -- "$BIN" --config "$T/a.yaml" alert history --id pending --format json
pyck history-runs "$OUT" "len(j['rows']) == 2 and all(r['state'] == 'triggered' for r in j['rows'])"
pyck history-deliveries "$OUT" "'slack:sent' in j['rows'][1]['deliveries'] and 'mail:sent' in j['rows'][1]['deliveries']"
t list 0 -- "$BIN" --config "$T/a.yaml" alert list --format json
pyck list-row "$OUT" "j['rows'][0]['id'] == 'pending' and j['rows'][0]['last_state'] == 'triggered' and j['rows'][0]['next_run'] is not None"

# alert test evaluates without recording or sending; --send sends.
t test-eval 0 -- "$BIN" --config "$T/a.yaml" alert test --id pending
pyck test-eval "$OUT" "j['state'] == 'triggered' and j['rowCount'] == 2 and j['notify'] is None"
sleep 0.3
eq test-sends-nothing "$(count "$T/hook" '^req-')" 1
t test-send 0 -- "$BIN" --config "$T/a.yaml" alert test --id pending --send
pyck test-send "$OUT" "[d['outcome'] for d in j['deliveries']] == ['sent', 'sent']"
eq test-sent "$(count "$T/hook" '^req-')" 2
t test-unknown 2 -- "$BIN" --config "$T/a.yaml" alert test --id pendng
has test-unknown "$ERR" "did you mean 'pending'"

# Resolve: the rows go away, one "resolved" message.
psql -q -X "$APP_URL" -c "UPDATE orders SET status = 'done'" >/dev/null
t resolve-once 0 -- "$BIN" --config "$T/a.yaml" alert run --once
wait_for 3 "$T/hook" '^req-' 5
pyck resolve-msg "$T/hook/req-3.json" "'resolved' in j['body']"
psql -q -X "$APP_URL" -c "UPDATE orders SET status = 'pending' WHERE id = 1" >/dev/null

# ---- retry after a 500 -----------------------------------------------------------------------
http_start "$T/hook500" 500
conf "$T/r.yaml" "{path: $T/r-state.db}" "$(echo "$PENDING" | sed 's/\[slack, mail\]/[slack]/')"
t retry-once 0 -- "$BIN" --config "$T/r.yaml" alert run --once
eq retry-two-requests "$(count "$T/hook500" '^req-')" 2
t retry-history 0 -- "$BIN" --config "$T/r.yaml" alert history --id pending --format json
pyck retry-sent "$OUT" "'slack:sent' in j['rows'][0]['deliveries']"

# ---- kill -9 right after a trigger: no duplicate after the restart --------------------------
http_start "$T/hookk"
conf "$T/k.yaml" "{path: $T/k-state.db}" "$(echo "$PENDING" | sed 's/\[slack, mail\]/[slack]/')"
"$BIN" --log-level info --config "$T/k.yaml" alert run 2>"$T/k1.log" &
pid=$!
wait_for 1 "$T/hookk" '^req-' 10
kill -9 $pid; wait $pid 2>/dev/null
"$BIN" --log-level info --config "$T/k.yaml" alert run 2>"$T/k2.log" &
pid=$!
sleep 3
eq kill9-no-duplicate "$(count "$T/hookk" '^req-')" 1
has kill9-runs-after-restart "$T/k2.log" "triggered: 1 row"
kill -TERM $pid
wait $pid
eq sigterm-exit-0 "$?" 0
has sigterm-log "$T/k2.log" "SIGTERM: finishing runs in flight"

# ---- cooldown across restarts (a digest every run, 1h cooldown) ------------------------------
http_start "$T/hookc"
DIGEST='  - id: digest
    connection: main
    sql: SELECT count(*) AS n FROM orders
    schedule: "@every 1s"
    rule: {type: always}
    cooldown: 1h
    channels: [slack]'
conf "$T/c.yaml" "{path: $T/c-state.db}" "$DIGEST"
t cooldown-1 0 -- "$BIN" --config "$T/c.yaml" alert run --once
t cooldown-2 0 -- "$BIN" --config "$T/c.yaml" alert run --once
"$BIN" --config "$T/c.yaml" alert run 2>/dev/null &
pid=$!
sleep 2.5
kill -TERM $pid; wait $pid
eq cooldown-holds "$(count "$T/hookc" '^req-')" 1

# ---- downtime: a missed alert runs once at start, not once per missed slot ------------------
CATCH='  - id: hourly
    connection: main
    sql: SELECT 1 AS one
    schedule: "@every 1h"
    rule: any_rows'
conf "$T/m.yaml" "{path: $T/m-state.db}" "$CATCH"
t catchup-first 0 -- "$BIN" --config "$T/m.yaml" alert run --once
# Pretend the runner has been down for three hours (three missed hourly slots).
sqlite3 "$T/m-state.db" "UPDATE clariq_alert_status SET last_slot_ms = last_slot_ms - 3 * 3600 * 1000"
"$BIN" --log-level info --config "$T/m.yaml" alert run 2>"$T/m.log" &
pid=$!
sleep 2
kill -TERM $pid; wait $pid
eq catchup-once "$(grep -c 'running it once now' "$T/m.log")" 1
t catchup-history 0 -- "$BIN" --config "$T/m.yaml" alert history --id hourly --format json
pyck catchup-history "$OUT" "len(j['rows']) == 2"

# ---- SIGHUP: a bad file keeps the old config; a good one is swapped in ----------------------
conf "$T/h.yaml" "{path: $T/h-state.db}" "$PENDING"
"$BIN" --log-level info --config "$T/h.yaml" alert run 2>"$T/h.log" &
pid=$!
sleep 1
echo "  - id: broken" >> "$T/h.yaml"
echo "    shedule: '* * * * *'" >> "$T/h.yaml"
kill -HUP $pid
sleep 1
has hup-bad-reported "$T/h.log" "kept the running configuration"
has hup-bad-hint "$T/h.log" "shedule"
conf "$T/h.yaml" "{path: $T/h-state.db}" "$PENDING" "$DIGEST"
kill -HUP $pid
sleep 1
has hup-good "$T/h.log" "configuration reloaded: 2 alerts"
kill -0 $pid 2>/dev/null && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL hup: runner died"; }
kill -TERM $pid; wait $pid
eq hup-exit-0 "$?" 0

# ---- two runners, one PostgreSQL state store ------------------------------------------------
MANY=()
for i in 1 2 3 4 5; do
  MANY+=("  - id: tick$i
    connection: main
    sql: SELECT 1 AS one
    schedule: \"@every 1s\"
    rule: any_rows")
done
conf "$T/two.yaml" "{connection: statedb}" "${MANY[@]}"
"$BIN" --config "$T/two.yaml" alert run 2>"$T/two1.log" &
p1=$!
"$BIN" --config "$T/two.yaml" alert run 2>"$T/two2.log" &
p2=$!
sleep 8
kill -TERM $p1 $p2; wait $p1; wait $p2
dups=$(psql -At -X "$STATE_URL" -c "SELECT count(*) FROM (SELECT alert_id, slot_ms FROM clariq_alert_runs GROUP BY 1, 2 HAVING count(*) > 1) d")
eq two-runners-no-duplicate-slot "$dups" 0
slots=$(psql -At -X "$STATE_URL" -c "SELECT count(DISTINCT (alert_id, slot_ms)) FROM clariq_alert_runs")
if [ "${slots:-0}" -ge 25 ]; then pass=$((pass + 1)); else
  fail=$((fail + 1)); echo "FAIL two-runners-ran: only ${slots:-0} slots evaluated in 8 s"; fi
missing=$(psql -At -X "$STATE_URL" -c "SELECT count(*) FROM (SELECT alert_id, (max(slot_ms) - min(slot_ms)) / 1000 + 1 - count(*) AS gap FROM clariq_alert_runs GROUP BY 1) g WHERE gap > 1")
eq two-runners-no-gaps "$missing" 0

# ---- validate: the shipped example and a broken file -----------------------------------------
export SLACK_WEBHOOK_URL=http://127.0.0.1:9/x WEBHOOK_SECRET=s SMTP_USER=u SMTP_PASSWORD=p
export DATABASE_URL=$APP_URL
t example-validates 0 -- "$BIN" --config "$SRC/examples/clariq.yaml" alert validate
printf 'alerts:\n  - id: x\n    connection: nope\n' > "$T/bad.yaml"
t validate-bad 2 -- "$BIN" --config "$T/bad.yaml" alert validate
has validate-bad "$ERR" "bad.yaml:"

summary
