#!/usr/bin/env bash
# Runs every benchmark under bench/; each writes var/bench/<name>.json.
# bench/api.py drives the server with wrk (Debian's package): installed here when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/bench
if ! command -v wrk >/dev/null; then
  echo "wrk is missing; installing Debian's package"
  sudo_or_not=""
  [ "$(id -u)" = "0" ] || sudo_or_not=sudo
  $sudo_or_not apt-get update -q && $sudo_or_not apt-get install -y -q wrk
fi
export BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/upline_bench}"
export BENCH_REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14}"
for bench in bench/[a-z]*.py; do
  echo "== $bench"
  if [ "$bench" = bench/api.py ]; then
    # With the scale figures of issue 15: the same slices again with 1,000,000 orders.
    .venv/bin/python "$bench" --scale-orders 1000000
  else
    .venv/bin/python "$bench"
  fi
done
# The scale figure of issue 15: 100,000 open orders over 10 providers, two synced at a time.
echo "== bench/status_sync.py --orders 100000 --providers 10 --parallel 2"
.venv/bin/python bench/status_sync.py --orders 100000 --providers 10 --parallel 2 >/dev/null
echo "== summary"
.venv/bin/python bench/_table.py
