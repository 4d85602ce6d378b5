#!/usr/bin/env bash
# Runs the whole suite against PostgreSQL and Redis at their default local addresses
# (override with TEST_DATABASE_URL / TEST_REDIS_URL). Outside CI, when they are unreachable,
# it says so and runs what it can on SQLite; with CI=true that is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/upline}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"

if [ "${TEST_BACKEND:-}" = "sqlite" ]; then
  # The development stack (`make run`): SQLite and the filesystem broker, on purpose.
  use_sqlite=1
elif unreachable=$($PY scripts/services_up.py); then
  use_sqlite=0
else
  if [ "${CI:-}" = "true" ]; then
    echo "Unreachable: $unreachable at $TEST_DATABASE_URL / $TEST_REDIS_URL, and CI=true: failing." >&2
    exit 1
  fi
  echo "Unreachable: $unreachable; running what can run on SQLite (PostgreSQL-only tests skip)."
  use_sqlite=1
fi

if [ "$use_sqlite" = "0" ]; then
  export DATABASE_URL="$TEST_DATABASE_URL"
  export CACHE_URL="$TEST_REDIS_URL"
  export CELERY_BROKER_URL="$TEST_REDIS_URL"
else
  export DATABASE_URL="sqlite:///$(mktemp -d)/test.sqlite3"
  export CELERY_BROKER_URL="filesystem://"
  unset CACHE_URL
fi
export DJANGO_DEBUG=true
exec $PY -m pytest "$@"
