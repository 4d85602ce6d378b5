#!/usr/bin/env bash
# Production smoke test, on this machine (no Docker): the README's production steps with
# DJANGO_DEBUG=false against PostgreSQL and Redis — migrate, collectstatic, the deploy checks,
# gunicorn, a Celery worker and beat, the simulator as the provider — then /readyz must be
# green and one order placed through /api/v2 must come back Completed. Everything it starts
# is stopped on exit. Every step is bounded in time (about 1.5 minutes on an idle machine).
#
# It drops and recreates the database SMOKE_DB and empties Redis db SMOKE_REDIS_DB.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
BIN=.venv/bin

WEB_PORT="${SMOKE_WEB_PORT:-8090}"
SIM_PORT="${SMOKE_SIM_PORT:-9090}"
PG="${SMOKE_PG:-postgres://postgres@127.0.0.1:5432}"
DB="${SMOKE_DB:-upline_smoke}"
REDIS="${SMOKE_REDIS:-redis://127.0.0.1:6379}"
REDIS_DB="${SMOKE_REDIS_DB:-14}"
started=$SECONDS
work="$(mktemp -d)"
pids=()

log() { echo "prod-smoke [$((SECONDS - started))s]: $*"; }

stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 40); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.25
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

on_exit() {
  local rc=$?
  stop_all
  if [ "$rc" != 0 ]; then
    echo "prod-smoke: FAILED (exit $rc). Last lines of each process log:"
    for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $(basename "$f")"; tail -n 25 "$f"; }; done
  fi
  rm -rf "$work"
}
trap on_exit EXIT
trap 'exit 124' TERM INT

start() {  # start NAME COMMAND...: run in the background, output to $work/NAME.log
  local name=$1
  shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: retry COMMAND until it succeeds
  local limit=$1 what=$2
  shift 2
  local until=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $until ]; then
      log "timed out waiting for $what"
      return 1
    fi
    sleep 1
  done
}

# --- The documented production variables (README, "Production without Docker") ------------
export DJANGO_DEBUG=false
DJANGO_SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')"
UPLINE_ENCRYPTION_KEYS="$($PY -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
export DJANGO_SECRET_KEY UPLINE_ENCRYPTION_KEYS
export DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost"
export DJANGO_CSRF_TRUSTED_ORIGINS="http://127.0.0.1:$WEB_PORT"
# TLS ends at a proxy in front (here: nobody), which also redirects plain HTTP.
export DJANGO_SECURE_SSL_REDIRECT=false
export UPLINE_VAR_DIR="$work/var"
export DATABASE_URL="$PG/$DB"
export CELERY_BROKER_URL="$REDIS/$REDIS_DB"
export CACHE_URL="$REDIS/$REDIS_DB"
# No mail server on this machine: no alert emails (check upline.E005 would insist otherwise).
export UPLINE_ADMIN_EMAILS=""
export UPLINE_METRICS_TOKEN="smoke-metrics-token"
export UPLINE_METRICS_DIRS="$work/metrics/web,$work/metrics/worker"
# The simulator listens on loopback, which the provider URL rules refuse unless told.
export SMMAPI_ALLOW_PRIVATE_HOSTS=true
export CATALOG_NEW_SERVICES_ENABLED=true
export LOG_FORMAT=json
# Not ours to read: a developer's .env must not change the run.
unset PROMETHEUS_MULTIPROC_DIR SENTRY_DSN EMAIL_HOST EMAIL_BACKEND

log "fresh database $DB and Redis db $REDIS_DB"
psql "$PG/postgres" -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
redis-cli -u "$REDIS/$REDIS_DB" flushdb >/dev/null

log "migrate, collectstatic, check --deploy"
timeout 180 $PY manage.py migrate --noinput -v0
timeout 60 $PY manage.py collectstatic --noinput -v0
timeout 60 $PY manage.py check --deploy --fail-level WARNING

# Started first: beat's first heartbeat comes one interval (30 s) after it starts.
log "gunicorn on :$WEB_PORT, worker, beat"
PROMETHEUS_MULTIPROC_DIR="$work/metrics/web" start web $BIN/gunicorn -c python:panel.gunicorn_conf \
  panel.wsgi:application --bind "127.0.0.1:$WEB_PORT" --workers 2 --timeout 60
PROMETHEUS_MULTIPROC_DIR="$work/metrics/worker" start worker $BIN/celery -A panel worker \
  -n "smoke@%h" --concurrency 2 --loglevel INFO
start beat $BIN/celery -A panel beat --loglevel INFO

log "simulator on :$SIM_PORT, provider_add"
start simulator $PY manage.py simulate_provider --port "$SIM_PORT" --speed 2 \
  --partial-share 0 --cancel-share 0
wait_for 60 "the simulator" curl -sf --max-time 10 -o /dev/null -d key=sim-key -d action=balance \
  "http://127.0.0.1:$SIM_PORT/api/v2"
echo sim-key | timeout 60 $PY manage.py provider_add "http://127.0.0.1:$SIM_PORT/api/v2" \
  --name Simulator --api-key-stdin

log "customer with an API key and a balance (user_credit)"
api_key="$(timeout 60 $PY manage.py shell -c '
from accounts.models import User
from accounts.services import api_key_rotate
user = User.objects.create_user(email="smoke@example.com", password=None)
print(api_key_rotate(user=user))
' | tail -n 1)"
timeout 60 $PY manage.py user_credit smoke@example.com 50 --reason "production smoke test"

log "deploy_check"
timeout 60 $PY manage.py deploy_check

base="http://127.0.0.1:$WEB_PORT"
wait_for 60 "gunicorn" curl -sf --max-time 10 -o /dev/null "$base/healthz"
# Probes answer whatever the Host header and without the SSL redirect (container probes).
curl -sf --max-time 10 -o /dev/null -H "Host: not-allowed.example" "$base/healthz"

log "waiting for /readyz (beat's first heartbeat)"
if ! wait_for 120 "/readyz" curl -sf --max-time 10 -o /dev/null "$base/readyz"; then
  curl -s --max-time 10 "$base/readyz"
  echo
  exit 1
fi
# As docker-compose's beat healthcheck asks it, from another container.
curl -sf --max-time 10 -H "Host: web:8000" "$base/readyz"
echo

log "one order through /api/v2"
SMOKE_BASE="$base" SMOKE_KEY="$api_key" timeout 90 $PY - <<'EOF'
import os
import sys
import time

import httpx

base, key = os.environ["SMOKE_BASE"], os.environ["SMOKE_KEY"]
api = f"{base}/api/v2"
services = httpx.post(api, data={"key": key, "action": "services"}, timeout=10).json()
service = next(s for s in services if s["type"] == "Default")
quantity = max(int(service["min"]), 100)
placed = httpx.post(
    api,
    data={
        "key": key,
        "action": "add",
        "service": service["service"],
        "link": "https://example.com/smoke",
        "quantity": quantity,
    },
    timeout=10,
).json()
print("add:", placed)
order = placed["order"]
deadline = time.monotonic() + 60
while True:
    status = httpx.post(api, data={"key": key, "action": "status", "order": order}, timeout=10)
    answer = status.json()
    if answer.get("status") == "Completed":
        print("status:", answer)
        break
    if time.monotonic() > deadline:
        sys.exit(f"order {order} not Completed in time: {answer}")
    time.sleep(1)
EOF

log "/metrics (token, merged from web and worker)"
metrics="$(curl -sf --max-time 10 -H "Authorization: Bearer $UPLINE_METRICS_TOKEN" "$base/metrics")"
for name in 'upline_orders_placed_total{provider="Simulator"} 1.0' \
  'upline_provider_calls_total{action="add"' 'upline_queue_depth{queue="celery"}'; do
  if ! grep -qF "$name" <<<"$metrics"; then
    echo "$metrics" | grep '^upline_' | head -n 40
    log "/metrics lacks $name"
    exit 1
  fi
done
test "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$base/metrics")" = 401

log "passed"
