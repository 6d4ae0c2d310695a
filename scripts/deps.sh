#!/usr/bin/env bash
# deps.sh - installs what clariq needs on Debian 12, only what is missing (idempotent).
# Usage: scripts/deps.sh [build|test|bench]   (default: test = everything for make check)
set -euo pipefail

what=${1:-test}
pkgs=(build-essential cmake pkg-config libpq-dev libsqlite3-dev libcurl4-openssl-dev
      libyaml-dev libjansson-dev libmicrohttpd-dev libhiredis-dev libssl-dev tzdata)
case "$what" in
  build) ;;
  test) pkgs+=(clang libcmocka-dev sqlite3 postgresql postgresql-client python3) ;;
  bench) pkgs+=(clang libcmocka-dev sqlite3 postgresql postgresql-client python3 time wrk) ;;
  *) echo "usage: deps.sh [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends --no-upgrade "${missing[@]}" >/dev/null
