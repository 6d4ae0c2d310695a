# lib.sh - shared by the it_*.sh tests: finds the binary and the fixture PostgreSQL, makes a
# scratch directory (removed on exit), and the assertion helpers. Source it; set TEST first.
BIN=${CLARIQ_BIN:?CLARIQ_BIN is not set}
PY=$(command -v python3 || true)
envfile=${CQ_IT_ENV_FILE:-}
PG_DSN=${CQ_IT_PG_DSN:-}
if [ -z "$PG_DSN" ] && [ -n "$envfile" ] && [ -f "$envfile" ]; then
  PG_DSN=$(sed -n 's/^CQ_IT_PG_DSN=//p' "$envfile")
fi
if [ -z "$PG_DSN" ]; then
  if [ "${CI:-}" = true ]; then echo "FAIL: no PostgreSQL for $TEST"; exit 1; fi
  echo "SKIP: no PostgreSQL"; exit 77
fi

T=$(mktemp -d "${CQ_TEST_TMP:-/tmp}/$TEST.XXXXXX" 2>/dev/null || mktemp -d)
cleanup_hooks=()
cleanup() {
  for h in "${cleanup_hooks[@]}"; do eval "$h"; done
  rm -rf "$T"
}
trap cleanup EXIT
export CLARIQ_DEMO_DB=$T/demo.db
unset CLARIQ_CONFIG
cd "$T"
pass=0
fail=0
OUT=$T/out
ERR=$T/err

# t NAME WANT_EXIT -- command...  : runs the command, checks the exit code
t() {
  local name=$1 want=$2
  shift 3
  "$@" >"$OUT" 2>"$ERR" </dev/null
  local got=$?
  if [ "$got" = "$want" ]; then
    pass=$((pass + 1))
    return 0
  fi
  fail=$((fail + 1))
  echo "FAIL $name: exit $got, want $want"
  echo "  stdout: $(head -c 600 "$OUT")"
  echo "  stderr: $(head -c 600 "$ERR")"
  return 1
}

# has NAME FILE TEXT : FILE contains TEXT (fixed string)
has() {
  if grep -qF -- "$3" "$2"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $1: $(basename "$2") lacks: $3"; echo "  got: $(head -c 600 "$2")"; fi
}

hasnt() {
  if grep -qF -- "$3" "$2"; then fail=$((fail + 1)); echo "FAIL $1: $(basename "$2") has: $3"; else
    pass=$((pass + 1)); fi
}

# pyck NAME FILE EXPR : python expression over j = json.load(FILE) must be true
pyck() {
  if [ -z "$PY" ]; then echo "FAIL $1: python3 missing"; fail=$((fail + 1)); return; fi
  if "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($3) else 1)" "$2" 2>"$T/pyerr"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "FAIL $1: $3"; echo "  json: $(head -c 600 "$2")"; cat "$T/pyerr"
  fi
}


# summary : the last line every test prints; exit status 1 on any failure
summary() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
