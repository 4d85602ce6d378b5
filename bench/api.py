"""Benchmark: the SMM API v2 endpoint served by gunicorn on PostgreSQL, driven over 127.0.0.1.

    .venv/bin/python bench/api.py [--seconds 6] [--rounds 6] [--concurrency 8] [--workers 2]

Measures, in one run and served by the same gunicorn (gthread, DJANGO_DEBUG=false):
* the floor: a minimal Django view doing one indexed SELECT (bench/api_floor, not product URLs);
* `add`: orders placed per second (each validated, priced, charged, committed, enqueued);
  the floor and `add` run in alternating slices (`--rounds`) over the same keep-alive
  connections, so load from elsewhere on the machine skews neither side of the ratio;
* `status` of 100 orders: latency p50/p95 from one sequential client.
The load comes from a separate process. Targets: add >= 35% of the floor's requests/s;
multi-status p95 <= 50 ms. Uses the database <BENCH_DATABASE_URL>_api and BENCH_REDIS_URL
(the Celery broker the `add` enqueues into). Writes var/bench/api.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from _support import bench_database_url, ensure_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
EMAIL = "bench-api@example.com"
ADD_TARGET = 0.35
STATUS_P95_TARGET_MS = 50.0


def server_env(db_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": redis_url,
        "CACHE_URL": redis_url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "UPLINE_ENCRYPTION_KEYS": "ZGV2LW9ubHktaW5zZWN1cmUta2V5LTAwMDAwMDAwMDA=",
        "ORDERS_DUPLICATE_LINK_GUARD": "true",
        # The limits are what is measured past, not what is measured.
        "API_RATE_LIMIT_PER_KEY": "100000000",
        "API_RATE_LIMIT_PER_IP": "100000000",
        "LOG_LEVEL": "WARNING",
    }


def prepare(db_url: str, redis_url: str) -> dict[str, Any]:
    """Create/migrate the database and seed a funded reseller, a service and 100 orders."""
    ensure_database(db_url)
    os.environ.update(server_env(db_url, redis_url))
    os.environ["DJANGO_SETTINGS_MODULE"] = "panel.settings"
    import django

    django.setup()
    from decimal import Decimal

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.models import LedgerEntry, User
    from accounts.services import api_key_rotate, balance_credit
    from catalog.models import Category, Provider, Service
    from orders.models import Order

    provider, _ = Provider.objects.get_or_create(
        name="Bench: api", defaults={"api_url": "http://127.0.0.1:9/api/v2"}
    )
    if not provider.api_key_encrypted:
        provider.api_key = "unused"
        provider.save()
    category, _ = Category.objects.get_or_create(name="Bench: api")
    service, _ = Service.objects.get_or_create(
        provider=provider,
        upstream_id="bench-api-1",
        defaults={
            "upstream_name": "Bench followers",
            "upstream_rate": Decimal("0.50"),
            "category": category,
            "name": "Bench followers",
            "rate": Decimal("1.00"),
            "min_quantity": 10,
            "max_quantity": 100000,
            "is_enabled": True,
        },
    )
    user, _ = User.objects.get_or_create(email=EMAIL, defaults={"role": "reseller"})
    balance_credit(user=user, amount=Decimal("1000000"), kind=LedgerEntry.Kind.DEPOSIT)
    orders = Order.objects.bulk_create(
        Order(
            user=user,
            service=service,
            provider=provider,
            upstream_service_id=service.upstream_id,
            type="Default",
            link=f"https://instagram.com/p/status-{i}",
            quantity=100,
            rate=Decimal("1.00"),
            charge=Decimal("0.10"),
            status=Order.Status.IN_PROGRESS,
        )
        for i in range(100)
    )
    return {
        "key": api_key_rotate(user=user),
        "service": service.pk,
        "order_ids": [o.pk for o in orders],
        "user_id": user.pk,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**env, "DJANGO_SETTINGS_MODULE": "bench.api_floor.settings"}
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "panel.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--worker-class=gthread",
            "--threads=4",
            "--log-level=warning",
            f"--chdir={ROOT}",
        ],
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


# --- the driver (a separate process) -----------------------------------------------------------


def drive(args: argparse.Namespace) -> None:
    import httpx

    base = f"http://127.0.0.1:{args.port}"
    setup = json.loads(os.environ["BENCH_API_SETUP"])

    clients = [httpx.Client(base_url=base, timeout=10) for _ in range(args.concurrency)]
    sent = [0] * args.concurrency  # per connection, so every `add` link is new

    def burst(make_request: Any, seconds: float) -> tuple[int, float, list[str]]:
        """`concurrency` keep-alive connections in closed loops for `seconds`."""
        counts: list[int] = []
        errors: list[str] = []
        stop = time.monotonic() + seconds

        def worker(index: int) -> None:
            done = 0
            while time.monotonic() < stop:
                response = make_request(clients[index], index, sent[index])
                sent[index] += 1
                if response.status_code != 200 or b"error" in response.content:
                    errors.append(response.text[:200])
                done += 1
            counts.append(done)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.concurrency)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(counts), time.monotonic() - started, errors

    def interleaved(kinds: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Alternate short slices of each kind, so a load spike from elsewhere on the machine
        hits the floor and the measured action alike instead of skewing their ratio."""
        totals = {name: [0, 0.0, []] for name in kinds}
        per_round: dict[str, list[float]] = {name: [] for name in kinds}
        for _ in range(args.rounds):
            for name, make_request in kinds.items():
                done, elapsed, errors = burst(make_request, args.seconds / args.rounds)
                totals[name][0] += done
                totals[name][1] += elapsed
                totals[name][2] += errors
                per_round[name].append(round(done / elapsed, 1))
        return {
            name: {
                "requests": done,
                "seconds": round(elapsed, 2),
                "rps": round(done / elapsed, 1),
                "rps_per_round": per_round[name],
                "errors": len(errors),
                "first_error": errors[0] if errors else "",
            }
            for name, (done, elapsed, errors) in totals.items()
        }

    def floor(client: httpx.Client, index: int, n: int) -> httpx.Response:
        return client.get("/bench/floor", params={"id": setup["user_id"]})

    run_id = int(time.time() * 1000)

    def add(client: httpx.Client, index: int, n: int) -> httpx.Response:
        return client.post(
            "/api/v2",
            data={
                "key": setup["key"],
                "action": "add",
                "service": setup["service"],
                "link": f"https://instagram.com/p/{run_id}-{index}-{n}",
                "quantity": "100",
            },
        )

    ids = ",".join(map(str, setup["order_ids"]))
    status_body = {"key": setup["key"], "action": "status", "orders": ids}
    with httpx.Client(base_url=base, timeout=10) as client:
        for _ in range(20):  # warm every worker's connections and caches
            floor(client, 0, 0)
            client.post("/api/v2", data=status_body)
        timings = []
        for _ in range(args.status_requests):
            started = time.perf_counter()
            response = client.post("/api/v2", data=status_body)
            timings.append((time.perf_counter() - started) * 1000)
            assert len(response.json()) == 100, response.text[:200]
    timings.sort()
    # Open every connection and warm both paths in every server thread (each has its own
    # database connection; the first `add` of a process opens its broker connection) before
    # measuring: a server that has just started is not what is being measured.
    for make_request in (floor, add, floor, add):
        burst(make_request, 0.5)
    result = {
        **interleaved({"floor": floor, "add": add}),
        "status_100": {
            "requests": len(timings),
            "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
            "max_ms": round(timings[-1], 2),
        },
    }
    for client in clients:
        client.close()
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6.0, help="per kind, in all rounds")
    parser.add_argument("--rounds", type=int, default=6, help="floor/add slices alternated")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--status-requests", type=int, default=300)
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        drive(args)
        return

    # A database of its own on the BENCH_DATABASE_URL server: other benches seed theirs.
    db_url = bench_database_url("api")
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    setup = prepare(db_url, redis_url)
    port = free_port()
    server = start_gunicorn(port, args.workers, server_env(db_url, redis_url))
    try:
        driven = subprocess.run(
            [
                sys.executable,
                __file__,
                "--drive",
                f"--port={port}",
                f"--seconds={args.seconds}",
                f"--rounds={args.rounds}",
                f"--concurrency={args.concurrency}",
                f"--status-requests={args.status_requests}",
            ],
            env={**os.environ, "BENCH_API_SETUP": json.dumps(setup)},
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    measured = json.loads(driven.stdout.strip().splitlines()[-1])
    floor_rps = measured["floor"]["rps"]
    add_share = measured["add"]["rps"] / floor_rps if floor_rps else 0.0
    report = {
        "name": "api",
        "params": {
            "server": f"gunicorn gthread, {args.workers} workers x 4 threads, DEBUG off",
            "database": "PostgreSQL",
            "driver": f"separate process, {args.concurrency} keep-alive connections, 127.0.0.1",
            "seconds_per_kind": args.seconds,
            "rounds": args.rounds,
            "status_requests": args.status_requests,
            "cpus": os.cpu_count(),
        },
        "metrics": {
            **measured,
            "add_share_of_floor": round(add_share, 3),
            "targets": {
                "add_share_of_floor": ADD_TARGET,
                "status_100_p95_ms": STATUS_P95_TARGET_MS,
            },
            "passed": add_share >= ADD_TARGET
            and measured["status_100"]["p95_ms"] <= STATUS_P95_TARGET_MS
            and measured["add"]["errors"] == 0,
        },
    }
    out = ROOT / "var" / "bench" / "api.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
