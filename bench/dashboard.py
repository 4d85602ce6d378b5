"""Benchmark: the staff dashboard (admin home) with 1,000,000 orders.

    .venv/bin/python bench/dashboard.py [--orders 1000000] [--runs 15]

Uses PostgreSQL at BENCH_DATABASE_URL + "_dashboard", created afresh. Seeds 5 providers,
500 services and 2,000 users, then bulk-inserts the orders with one SQL statement (spread
over 90 days: 80% completed, 8% partial, 5% canceled, 3% failed, 0.2% needs review, the
rest in progress),
builds the daily rollup from them (console.services.rollup_rebuild, timed), and times the
dashboard page (30 and 90 days) through Django's test client: median and p95 of ``--runs``
renders after two warm-ups, with the SQL queries of one render. It also times settling 10,000
settled orders' refunds in one UPDATE with the rollup trigger on and off (its write cost).
Target: dashboard median <= 300 ms. Writes var/bench/dashboard.json.
"""

# The seeding SQL is built from constants and the model's column names only.
# ruff: noqa: S608
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _support import bench_database_url, ensure_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROVIDERS, SERVICES, USERS = 5, 500, 2000
TARGET_MS = 300.0


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panel.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    if "BENCH_REDIS_URL" in os.environ:
        os.environ["CACHE_URL"] = os.environ["BENCH_REDIS_URL"]
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def seed_catalogue() -> None:
    from decimal import Decimal

    from accounts.models import User
    from catalog.models import Category, Provider, Service

    providers = [
        Provider(
            name=f"Provider {i}",
            api_url=f"https://p{i}.example.com/api/v2",
            api_key="bench",
            balance=Decimal(1000 * i),
            low_balance_threshold=Decimal(1500),
        )
        for i in range(PROVIDERS)
    ]
    Provider.objects.bulk_create(providers)
    category = Category.objects.create(name="Bench")
    Service.objects.bulk_create(
        Service(
            provider=providers[i % PROVIDERS],
            upstream_id=str(i),
            upstream_name=f"Service {i}",
            name=f"Instagram Followers {i} | Real | Refill",
            upstream_rate=Decimal("1.00") + Decimal(i % 50) / 10,
            rate=(Decimal("1.00") + Decimal(i % 50) / 10) * Decimal("1.3"),
            category=category,
            is_enabled=True,
        )
        for i in range(SERVICES)
    )
    User.objects.bulk_create(User(email=f"user{i}@example.com") for i in range(USERS))
    User.objects.create_superuser(email="bench@example.com", password="bench-password-1")  # noqa: S106


def insert_orders(count: int) -> float:
    """One INSERT ... SELECT over generate_series; returns its seconds."""
    from django.db import connection

    from orders.models import Order

    expressions = {
        "user_id": f"(SELECT min(id) FROM accounts_user) + g % {USERS}",
        "service_id": f"(SELECT min(id) FROM catalog_service) + g % {SERVICES}",
        "provider_id": f"(SELECT min(id) FROM catalog_provider) + (g % {SERVICES}) % {PROVIDERS}",
        "upstream_service_id": "(g % 500)::text",
        "type": "'Default'",
        "link": "'https://instagram.com/account' || (g % 10000)",
        "quantity": "1000",
        "rate": "1.30000 + (g % 50) * 0.13",
        "charge": "1.30000 + (g % 50) * 0.13",
        "cost": "CASE WHEN g % 1000 < 950 THEN 1.00000 + (g % 50) * 0.1 END",
        "refunded": "CASE WHEN g % 1000 BETWEEN 800 AND 879 THEN 0.5 "
        "WHEN g % 1000 BETWEEN 880 AND 929 THEN 1.30000 + (g % 50) * 0.13 ELSE 0 END",
        "status": "CASE WHEN g % 1000 < 800 THEN 'completed' WHEN g % 1000 < 880 THEN 'partial' "
        "WHEN g % 1000 < 930 THEN 'canceled' WHEN g % 1000 < 960 THEN 'failed' "
        "WHEN g % 1000 < 962 THEN 'needs_review' ELSE 'in_progress' END",
        "review_reason": "CASE WHEN g % 1000 = 961 THEN 'impossible_number' "
        "WHEN g % 1000 = 960 THEN 'unknown_outcome' ELSE '' END",
        "cancel_status": "CASE WHEN g % 5000 = 4999 THEN 'requested' ELSE '' END",
        "upstream_order_id": "g::text",
        "created_at": "now() - (g % 90) * interval '1 day' - (g % 1440) * interval '1 minute'",
        "updated_at": "now() - (g % 90) * interval '1 day'",
        "finished_at": "CASE WHEN g % 1000 < 960 THEN now() - (g % 90) * interval '1 day' END",
    }
    columns, values, params = [], [], []
    for field in Order._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.attname in expressions:
            values.append(
                expressions[field.attname].replace("%", "%%")
            )  # modulo, not a placeholder
        elif field.null:
            values.append("NULL")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    sql = (
        f"INSERT INTO orders_order ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, %s) AS g"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Bulk history is loaded the way an import would be: the trigger off, the rollup
        # rebuilt from the rows afterwards (timed separately).
        cursor.execute("ALTER TABLE orders_order DISABLE TRIGGER console_rollup_inserted")
        cursor.execute(sql, [*params, count])
        cursor.execute("ALTER TABLE orders_order ENABLE TRIGGER console_rollup_inserted")
    with connection.cursor() as cursor:
        # What autovacuum would have done by the time anyone looks at the dashboard.
        cursor.execute("VACUUM ANALYZE orders_order")
    return time.perf_counter() - started


def time_pages(runs: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email="bench@example.com"))
    out: dict[str, Any] = {}
    for days in (30, 90):
        url = f"/admin/?days={days}"
        for _ in range(2):
            assert client.get(url).status_code == 200
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        out[f"days_{days}"] = {
            "median_ms": round(statistics.median(timings), 1),
            "p95_ms": round(sorted(timings)[int(len(timings) * 0.95) - 1], 1),
            "min_ms": round(min(timings), 1),
            "queries": len(queries),
        }
    return out


def time_settling(count: int) -> dict[str, float]:
    """Seconds to add a refund to ``count`` settled orders in one UPDATE, with the rollup
    trigger on and off (its cost on the write path)."""
    from django.db import connection

    update = (
        "UPDATE orders_order SET refunded = refunded + 0.01 WHERE id IN "
        "(SELECT id FROM orders_order WHERE status = 'completed' ORDER BY id DESC LIMIT %s)"
    )
    out = {}
    with connection.cursor() as cursor:
        for label in ("without_trigger", "with_trigger"):
            enable = "ENABLE" if label == "with_trigger" else "DISABLE"
            cursor.execute(f"ALTER TABLE orders_order {enable} TRIGGER console_rollup_updated")
            started = time.perf_counter()
            cursor.execute(update, [count])
            out[label] = round(time.perf_counter() - started, 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", default=str(ROOT / "var" / "bench" / "dashboard.json"))
    args = parser.parse_args()
    url = bench_database_url("dashboard")
    ensure_database(url)
    setup_django(url)

    from console.models import DailyRollup
    from console.services import rollup_rebuild

    seed_catalogue()
    insert_seconds = insert_orders(args.orders)
    started = time.perf_counter()
    rollup_rebuild()
    rebuild_seconds = time.perf_counter() - started
    pages = time_pages(args.runs)
    settle_seconds = time_settling(10_000)
    worst = max(page["median_ms"] for page in pages.values())
    metrics: dict[str, Any] = {
        "orders": args.orders,
        "rollup_rows": DailyRollup.objects.count(),
        "insert_seconds": round(insert_seconds, 1),
        "rollup_rebuild_seconds": round(rebuild_seconds, 2),
        "dashboard": pages,
        "update_10000_settled_orders_seconds": settle_seconds,
        "target_median_ms": TARGET_MS,
        "meets_target": worst <= TARGET_MS,
    }
    parts = urlsplit(url)
    report = {
        "name": "dashboard",
        "params": {
            "orders": args.orders,
            "providers": PROVIDERS,
            "services": SERVICES,
            "users": USERS,
            "runs": args.runs,
            "database": parts._replace(netloc=parts.hostname or "").geturl(),
            "timings": "Django test client, full admin index render incl. sidebar badges",
        },
        "metrics": metrics,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0 if metrics["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
