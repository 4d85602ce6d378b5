#!/usr/bin/env bash
# Runs every benchmark under bench/; each writes var/bench/<name>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/bench
export BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/upline_bench}"
export BENCH_REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14}"
for bench in bench/[a-z]*.py; do
  echo "== $bench"
  .venv/bin/python "$bench"
done
