#!/usr/bin/env bash
# check.sh - what `make check` runs: install what is missing, check the source rules,
# build and run every test (unit, integration against a throwaway PostgreSQL started by
# the ctest fixture, fuzz corpus replays) with gcc, again under ASan+UBSan, then compile
# with clang -Werror. Ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
total_pass=0
total_fail=0
status=0

bash scripts/deps.sh test || exit 1
bash scripts/check-src.sh || status=1

# Runs ctest in a build dir and adds its counts to the totals.
run_suite() {
  local preset=$1 log
  log=$(mktemp)
  echo "== $preset: configure + build"
  if ! { cmake --preset "$preset" >/dev/null && cmake --build --preset "$preset" -j"$jobs"; } > "$log" 2>&1; then
    tail -50 "$log"
    echo "== $preset: BUILD FAILED"
    total_fail=$((total_fail + 1)); status=1; rm -f "$log"; return
  fi
  echo "== $preset: ctest"
  (cd "build/$preset" && ctest --output-on-failure --timeout 900) 2>&1 | tee "$log"
  local line pass fail total
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
  if [ -z "$line" ]; then
    total_fail=$((total_fail + 1)); status=1
  else
    fail=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
    total=$(echo "$line" | sed -E 's/.* out of ([0-9]+).*/\1/')
    skipped=$(grep -cE '\*\*\*Skipped|Not Run' "$log" || true)
    pass=$((total - fail - skipped))
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
    [ "$fail" -eq 0 ] || status=1
  fi
  rm -f "$log"
}

run_suite dev
run_suite asan

echo "== clang: build with -Werror"
if cmake --preset clang >/dev/null 2>&1 && cmake --build --preset clang -j"$jobs" >/tmp/clariq-clang.log 2>&1; then
  total_pass=$((total_pass + 1))
else
  tail -40 /tmp/clariq-clang.log
  total_fail=$((total_fail + 1)); status=1
fi

echo "$total_pass passed, $total_fail failed"
exit $status
