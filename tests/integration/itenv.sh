#!/usr/bin/env bash
# itenv.sh - throwaway servers on 127.0.0.1 for the integration tests.
#
#   itenv.sh up DIR          start what is missing; write DIR/env (KEY=VALUE lines)
#   itenv.sh down DIR        stop everything started in DIR and remove DIR
#   itenv.sh stop pg DIR     stop PostgreSQL (fault tests)
#   itenv.sh start pg DIR    start it again on the same port
#
# External mode: when CQ_IT_PG_DSN is already set, nothing is started for PostgreSQL and
# the given DSN is written to DIR/env. PostgreSQL runs as the `postgres` user when we are
# root (initdb refuses root), with fsync off: these servers hold only test data.
set -euo pipefail

cmd=${1:?usage: itenv.sh up|down|stop|start ...}
case "$cmd" in
  stop|start) what=${2:?}; dir=${3:?} ;;
  *) dir=${2:?} ;;
esac

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Free: nothing listens there, and no socket uses it as its local port either (a client's
# ephemeral port in the same range makes the server's bind fail).
port_free() {
  ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null || return 1
  ! command -v ss >/dev/null 2>&1 || [ -z "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
}

pick_port() {
  local p=$1
  while ! port_free "$p"; do p=$((p + 1)); done
  echo "$p"
}

pg_start() {
  local bin=$1 data=$2 port=$3
  as_pg "$bin/pg_ctl" -D "$data" -l "$dir/pg/log" -w -s -t 30 \
    -o "-p $port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start
}

case "$cmd" in
up)
  mkdir -p "$dir"
  chmod 755 "$dir"
  : > "$dir/env.tmp"
  if [ -n "${CQ_IT_PG_DSN:-}" ]; then
    echo "CQ_IT_PG_DSN=$CQ_IT_PG_DSN" >> "$dir/env.tmp"
  elif [ -f "$dir/pg/port" ] && [ -f "$dir/pg/data/postmaster.pid" ]; then
    port=$(cat "$dir/pg/port")  # already up (re-run of the fixture)
    echo "CQ_IT_PG_DSN=postgresql://postgres@127.0.0.1:$port/postgres" >> "$dir/env.tmp"
    echo "CQ_IT_PG_PORT=$port" >> "$dir/env.tmp"
  elif bin=$(pg_bin); then
    rm -rf "$dir/pg"
    mkdir -p "$dir/pg"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/pg"
    as_pg "$bin/initdb" -D "$dir/pg/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      --no-sync > "$dir/pg/initdb.log" 2>&1 || { cat "$dir/pg/initdb.log" >&2; exit 1; }
    port=$(pick_port 54330)
    echo "$port" > "$dir/pg/port"
    pg_start "$bin" "$dir/pg/data" "$port"
    echo "CQ_IT_PG_DSN=postgresql://postgres@127.0.0.1:$port/postgres" >> "$dir/env.tmp"
    echo "CQ_IT_PG_PORT=$port" >> "$dir/env.tmp"
    echo "CQ_IT_PG_MANAGED=1" >> "$dir/env.tmp"
  else
    echo "itenv: PostgreSQL server binaries not found; PostgreSQL tests will skip" >&2
  fi
  mv "$dir/env.tmp" "$dir/env"
  cat "$dir/env"
  ;;
down)
  if [ -d "$dir/pg/data" ] && bin=$(pg_bin); then
    as_pg "$bin/pg_ctl" -D "$dir/pg/data" -m immediate -s stop 2>/dev/null || true
  fi
  rm -rf "$dir"
  ;;
stop|start)
  [ "$what" = pg ] || { echo "itenv: only 'pg' can be stopped/started" >&2; exit 2; }
  bin=$(pg_bin)
  [ -d "$dir/pg/data" ] || { echo "itenv: no managed PostgreSQL in $dir" >&2; exit 77; }
  if [ "$cmd" = stop ]; then
    as_pg "$bin/pg_ctl" -D "$dir/pg/data" -m fast -s -w stop
  else
    pg_start "$bin" "$dir/pg/data" "$(cat "$dir/pg/port")"
  fi
  ;;
*)
  echo "usage: itenv.sh up|down DIR | stop|start pg DIR" >&2
  exit 2
  ;;
esac
