"""Benchmark: placement → "sent" latency through a real Celery worker on Redis.

    .venv/bin/python bench/forward_latency.py [--orders 1000] [--concurrency 4]

Uses PostgreSQL at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/upline_bench)
and Redis at BENCH_REDIS_URL (default redis://127.0.0.1:6379/15) as the broker. Starts the
simulator (``manage.py simulate_provider``) and a Celery worker as subprocesses, places N orders
one after another through ``order_place`` (each enqueues its forward task on commit) and waits
until all are sent. Latency is ``sent_at - created_at`` per order. Target: p95 <= 1 s.
Writes var/bench/forward_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from _support import bench_database_url, ensure_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    url = bench_database_url("forward")
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": redis_url,
        "CACHE_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "panel.settings",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "bench"))

    ensure_database(url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    from accounts.models import LedgerEntry, User
    from accounts.services import balance_credit
    from catalog.models import Category, Provider, Service
    from orders.models import Order
    from orders.services import order_place
    from panel.celery import app
    from panel.smmapi import SMMClient
    from panel.smmapi.protocol import ServiceType

    python = str(ROOT / ".venv" / "bin" / "python")
    port = free_port()
    sim = subprocess.Popen(
        [python, "manage.py", "simulate_provider", "--port", str(port), "--speed", "3600"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    worker = None
    try:
        sim_url = f"http://127.0.0.1:{port}/api/v2"
        client = SMMClient(sim_url, "sim-key")
        for _ in range(100):
            try:
                catalogue = client.services()
                break
            except Exception:
                time.sleep(0.1)
        upstream = next(
            s for s in catalogue if s.type is ServiceType.DEFAULT and s.min <= 100 <= s.max
        )
        stamp = time.time_ns()
        provider = Provider(name=f"bench-forward-{stamp}", api_url=sim_url)
        provider.api_key = "sim-key"
        provider.save()
        service = Service.objects.create(
            provider=provider,
            category=Category.objects.create(name=f"bench-forward-{stamp}"),
            upstream_id=upstream.service_id,
            upstream_name=upstream.name,
            name=upstream.name,
            upstream_rate=upstream.rate,
            rate=upstream.rate * Decimal("1.3"),
            min_quantity=upstream.min,
            max_quantity=upstream.max,
            is_enabled=True,
        )
        user = User.objects.create_user(f"bench-forward-{stamp}@example.com")
        balance_credit(user=user, amount=Decimal("1000000"), kind=LedgerEntry.Kind.DEPOSIT)
        quantity = str(max(upstream.min, 100))

        app.control.purge()
        worker = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "celery"),
                "-A",
                "panel",
                "worker",
                "-l",
                "WARNING",
                "-c",
                str(args.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
        )
        # Warm up: the first order goes out once the worker is ready.
        warm = order_place(
            user=user,
            service_id=service.pk,
            fields={"link": f"https://example.com/{stamp}/warm", "quantity": quantity},
            source="api_v2",
        )
        deadline = time.monotonic() + 60
        while not Order.objects.filter(pk=warm.pk, status="sent").exists():
            if time.monotonic() > deadline:
                raise SystemExit("the worker did not send the warm-up order in 60 s")
            time.sleep(0.1)

        start = time.perf_counter()
        ids = []
        for i in range(args.orders):
            order = order_place(
                user=user,
                service_id=service.pk,
                fields={"link": f"https://example.com/{stamp}/{i}", "quantity": quantity},
                source="api_v2",
            )
            ids.append(order.pk)
        placing = time.perf_counter() - start
        deadline = time.monotonic() + 300
        while Order.objects.filter(pk__in=ids, status="sent").count() < len(ids):
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        total = time.perf_counter() - start
        rows = list(Order.objects.filter(pk__in=ids).values_list("status", "created_at", "sent_at"))
        latencies = [
            (sent - created).total_seconds() for status, created, sent in rows if sent is not None
        ]
        statuses: dict[str, int] = {}
        for status, _c, _s in rows:
            statuses[status] = statuses.get(status, 0) + 1
        adds = Order.objects.filter(pk__in=ids).exclude(upstream_order_id="").count()
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        sim.terminate()
        sim.wait(timeout=10)

    result = {
        "name": "forward_latency",
        "params": {
            "orders": args.orders,
            "worker_concurrency": args.concurrency,
            "broker": redis_url.split("@")[-1],
            "database": url.rsplit("/", 1)[-1],
        },
        "metrics": {
            "p50_seconds": round(statistics.median(latencies), 3),
            "p95_seconds": round(percentile(latencies, 0.95), 3),
            "max_seconds": round(max(latencies), 3),
            "placement_seconds": round(placing, 3),
            "placements_per_second": round(args.orders / placing, 1),
            "all_sent_seconds": round(total, 3),
            "sent": len(latencies),
            "statuses": statuses,
            "upstream_ids_recorded": adds,
        },
    }
    out = ROOT / "var" / "bench" / "forward_latency.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
