#!/usr/bin/env bash
# it_cli.sh - the clariq binary end to end: exit codes, JSON error shape, formats,
# parameters, limits, read-only, config errors, init and demo, against the embedded SQLite
# demo and the throwaway PostgreSQL of the ctest fixture.
set -uo pipefail

TEST=it_cli
. "$(dirname "$0")/lib.sh"

port=$(echo "$PG_DSN" | sed -E 's/.*:([0-9]+)\/.*/\1/')
cat > "$T/pg.yaml" <<YAML
connections:
  pg:
    driver: postgres
    url: \${IT_PG_URL}
    limits: {timeout: 5s, max_rows: 1000}
  pgrw:
    driver: postgres
    url: \${IT_PG_URL}
    read_only: false
  down:
    driver: postgres
    url: postgresql://clariq:s3cretpw@127.0.0.1:1/nothing
YAML
export IT_PG_URL=$PG_DSN
C="--config $T/pg.yaml"
schema="it_cli_$$"

# --- basics ---------------------------------------------------------------------------
t version 0 -- "$BIN" --version; has version "$OUT" "clariq "
for cmd in run connections init demo; do t "help-$cmd" 0 -- "$BIN" "$cmd" --help; has "help-$cmd" "$OUT" "Usage: clariq $cmd"; done
t help 0 -- "$BIN" --help; has help "$OUT" "Exit codes"
t unknown-cmd 2 -- "$BIN" rnu; has unknown-cmd "$ERR" "did you mean 'run'"
t bad-flag 2 -- "$BIN" run --bogus "SELECT 1"; has bad-flag "$ERR" "unknown option '--bogus'"
t no-sql 2 -- "$BIN" $C run -c pg; has no-sql "$ERR" "no SQL given"
t bad-format 2 -- "$BIN" run --format xml "SELECT 1"
t bad-timeout 2 -- "$BIN" run --timeout 5parsecs "SELECT 1"; has bad-timeout "$ERR" "invalid duration"

# --- embedded demo (no config anywhere) --------------------------------------------------
t demo-run 0 -- "$BIN" run --format json "SELECT COUNT(*) AS n FROM customers"
pyck demo-run "$OUT" "j['rows'][0]['n'] > 0 and j['fields'][0]['name'] == 'n' and j['truncated'] is False"
t demo-cmd 0 -- "$BIN" demo --format json
if [ -n "$PY" ]; then
  "$PY" -c "import json,sys; ls=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]; assert len(ls) == 6 and ls[1]['rowCount'] > 0 and ls[0]['title']" "$OUT" \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL demo-json: not JSON lines"; head -c 600 "$OUT"; }
fi
t demo-readonly 1 -- "$BIN" run --format json "DELETE FROM customers"
pyck demo-readonly "$ERR" "j['error']['code'] == 'read_only' and 'read-only' in j['error']['message'] and j['error']['connection'] == 'demo'"

# --- PostgreSQL through the CLI --------------------------------------------------------
t pg-json 0 -- "$BIN" $C run -c pg --format json "SELECT 1::int8 AS id, 'a@b.c' AS email, 12.50::numeric AS amount, NULL::text AS nothing, true AS ok, '2024-02-29'::date AS d, '[1,2]'::jsonb AS j, ARRAY[1,2,NULL] AS arr"
pyck pg-json "$OUT" "j['rows'] == [{'id':1,'email':'a@b.c','amount':12.50,'nothing':None,'ok':True,'d':'2024-02-29','j':[1,2],'arr':[1,2,None]}] and j['rowCount'] == 1 and j['fields'][0] == {'name':'id','type':'int8'}"
has pg-json-digits "$OUT" '"amount":12.50'
t pg-params 0 -- "$BIN" $C run -c pg --format json -p 42 -p 'text:007' -p null "SELECT \$1::int + 1 AS a, \$2 AS b, \$3::text IS NULL AS c"
pyck pg-params "$OUT" "j['rows'][0] == {'a':43,'b':'007','c':True}"
t pg-params-json 0 -- "$BIN" $C run -c pg --format json --params-json '[1,"a",null]' "SELECT \$1::int AS a, \$2::text AS b, \$3::int AS c"
pyck pg-params-json "$OUT" "j['rows'][0] == {'a':1,'b':'a','c':None}"
t pg-inject 0 -- "$BIN" $C run -c pg --format json -p "'; DROP TABLE pg_class; --" "SELECT \$1 AS v"
pyck pg-inject "$OUT" "j['rows'][0]['v'] == \"'; DROP TABLE pg_class; --\""
t pg-param-count 2 -- "$BIN" $C run -c pg --format json -p 1 "SELECT \$1, \$2"
pyck pg-param-count "$ERR" "j['error']['code'] == 'invalid_input' and '\$1..\$2' in j['error']['message']"
t pg-stdin 0 -- sh -c "echo 'SELECT 7 AS seven' | '$BIN' $C run -c pg --format csv"
has pg-stdin "$OUT" "seven"
printf 'SELECT 8 AS eight' > "$T/q.sql"
t pg-file 0 -- "$BIN" $C run -c pg --format ndjson -f "$T/q.sql"
has pg-file "$OUT" '{"eight":8}'
t pg-csv 0 -- "$BIN" $C run -c pg --format csv "SELECT 'a,b' AS x, NULL AS y, '' AS z, 'say \"hi\"' AS w"
printf 'x,y,z,w\r\n"a,b",,"","say ""hi"""\r\n' > "$T/want.csv"
if cmp -s "$OUT" "$T/want.csv"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL pg-csv: $(od -c "$OUT" | head -5)"; fi
t pg-table 0 -- "$BIN" $C run -c pg --format table "SELECT 1 AS one, 'x' AS two"
has pg-table "$OUT" "(1 row"

# exit 1: SQL error with the JSON error shape
t pg-sqlerr 1 -- "$BIN" $C run -c pg --format json "SELECT * FROM no_such_table"
pyck pg-sqlerr "$ERR" "j['error']['code'] == 'sql_error' and j['error']['sqlstate'] == '42P01' and j['error']['connection'] == 'pg' and 'no_such_table' in j['error']['message']"
t pg-sqlerr-plain 1 -- "$BIN" $C run -c pg --format csv "SELEC 1"
has pg-sqlerr-plain "$ERR" "clariq: error:"
# exit 2: unknown connection with a hint
t pg-unknown-conn 2 -- "$BIN" $C run -c pgg --format json "SELECT 1"
has pg-unknown-conn "$ERR" "did you mean 'pg'"
# exit 3: connection refused, password never shown
t pg-down 3 -- "$BIN" $C run -c down --format json "SELECT 1"
pyck pg-down "$ERR" "j['error']['code'] == 'connection_error' and j['error']['connection'] == 'down' and '127.0.0.1' in j['error']['message']"
hasnt pg-down-secret "$ERR" "s3cretpw"
# exit 4: timeout
t pg-timeout 4 -- "$BIN" $C run -c pg --format json --timeout 300ms "SELECT pg_sleep(5)"
pyck pg-timeout "$ERR" "j['error']['code'] == 'timeout' and j['error']['sqlstate'] == '57014'"
# exit 5 only with --fail-on-truncate; a request cannot raise the connection's max_rows
t pg-trunc 0 -- "$BIN" $C run -c pg --format json --max-rows 3 "SELECT g FROM generate_series(1,10) g"
pyck pg-trunc "$OUT" "j['rowCount'] == 3 and j['truncated'] is True and j['truncatedReason'] == 'max_rows'"
t pg-trunc-fail 5 -- "$BIN" $C run -c pg --format json --max-rows 3 --fail-on-truncate "SELECT g FROM generate_series(1,10) g"
t pg-no-raise 0 -- "$BIN" $C run -c pg --format json --max-rows 5000 "SELECT g FROM generate_series(1,2000) g"
pyck pg-no-raise "$OUT" "j['rowCount'] == 1000 and j['truncated'] is True"
has pg-no-raise-note "$ERR" "above connection 'pg' limit"
# read-only and multi-statement rules
t pg-readonly 1 -- "$BIN" $C run -c pg --format json "CREATE TABLE ${schema}_t (id int)"
pyck pg-readonly "$ERR" "j['error']['code'] == 'read_only' and \"connection 'pg' is read-only\" in j['error']['message']"
t pg-multi-refused 2 -- "$BIN" $C run -c pg --format json "SELECT 1; SELECT 2"
has pg-multi-refused "$ERR" "--allow-multi"
t pg-multi 0 -- "$BIN" $C run -c pgrw --format json --allow-multi "CREATE SCHEMA $schema; CREATE TABLE $schema.t (id int); INSERT INTO $schema.t VALUES (1),(2); SELECT count(*) AS n FROM $schema.t"
pyck pg-multi "$OUT" "j['rows'] == [{'n': 2}]"
t pg-dml 0 -- "$BIN" $C run -c pgrw --format json "DELETE FROM $schema.t WHERE id = \$1" -p 1
pyck pg-dml "$OUT" "j.get('rowsAffected') == 1"
t pg-call 0 -- "$BIN" $C run -c pgrw --format json --allow-multi "CREATE PROCEDURE $schema.p(INOUT x int) LANGUAGE plpgsql AS \$\$ BEGIN x := x * 2; END \$\$; CALL $schema.p(\$1)" -p 21
pyck pg-call "$OUT" "j['rows'] == [{'x': 42}]"
t pg-cleanup 0 -- "$BIN" $C run -c pgrw --format json "DROP SCHEMA $schema CASCADE"

# --- connections ------------------------------------------------------------------------
t conns-list 0 -- "$BIN" $C connections list --format json
pyck conns-list "$OUT" "[r['name'] for r in j['rows']] == ['pg','pgrw','down'] and j['rows'][0]['read_only'] is True and j['rows'][1]['read_only'] is False"
has conns-list-redacted "$OUT" "clariq:***@127.0.0.1:1"
hasnt conns-list-secret "$OUT" "s3cretpw"
t conns-test-ok 0 -- "$BIN" $C connections test pg --format json
pyck conns-test-ok "$OUT" "j['rows'][0]['status'] == 'ok' and j['rows'][0]['server'].startswith('PostgreSQL') and j['rows'][0]['latency_ms'] >= 0"
t conns-test-all 3 -- "$BIN" $C connections test --format json
pyck conns-test-all "$OUT" "[r['status'] for r in j['rows']] == ['ok','ok','failed']"
hasnt conns-test-secret "$OUT" "s3cretpw"
t conns-bad-sub 2 -- "$BIN" $C connections frobnicate

# --- configuration errors -----------------------------------------------------------------
printf 'connections:\n  x:\n    driver: postgress\n    urll: postgres://h/db\n' > "$T/bad.yaml"
t conf-bad 2 -- "$BIN" --config "$T/bad.yaml" run "SELECT 1"
has conf-bad-driver "$ERR" "bad.yaml:3:"
has conf-bad-key "$ERR" "did you mean 'url'"
t conf-missing 2 -- "$BIN" --config "$T/nope.yaml" run "SELECT 1"
has conf-missing "$ERR" "nope.yaml"
t conf-env 2 -- env CLARIQ_CONFIG="$T/bad.yaml" "$BIN" run "SELECT 1"

# --- init ---------------------------------------------------------------------------------
mkdir -p "$T/proj"
t init 0 -- "$BIN" init --dir "$T/proj"
t init-again 2 -- "$BIN" init --dir "$T/proj"; has init-again "$ERR" "--force"
t init-force 0 -- "$BIN" init --dir "$T/proj" --force
t init-runs 0 -- "$BIN" --config "$T/proj/clariq.yaml" run --format json "SELECT COUNT(*) AS n FROM products"
pyck init-runs "$OUT" "j['rows'][0]['n'] > 0"
t init-cwd 0 -- sh -c "cd '$T/proj' && '$BIN' connections list --format csv"
has init-cwd "$OUT" "local,sqlite"

summary
