"""Benchmark: the new-order page rendered server-side with 10,000 services in the catalogue.

    .venv/bin/python bench/new_order_page.py [--services 10000] [--repeat 50]

Uses PostgreSQL at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/upline_bench),
created and migrated if needed. Tops the catalogue up to N enabled services (100 categories of
N/100, under a provider of its own), signs a customer in and times full GETs of /orders/new/
through Django's test client (URL routing, middleware, session, queries, template rendering),
plus the server-side search fragment and the services page (first page, and an all-words
search). Target: median and p95 <= 150 ms.
Writes var/bench/new_order_page.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from _support import bench_database_url, ensure_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROVIDER_NAME = "Bench: new order page"
TARGET_MS = 150.0


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panel.settings")
    os.environ.pop("CACHE_URL", None)  # sessions live in the database; no shared cache needed
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed_catalogue(total: int) -> int:
    """Make sure the bench provider sells `total` enabled services; return its service count."""
    from catalog.models import Category, Provider, Service

    provider, _ = Provider.objects.get_or_create(
        name=PROVIDER_NAME, defaults={"api_url": "http://127.0.0.1:9/api/v2"}
    )
    if not provider.api_key_encrypted:
        provider.api_key = "bench"
        provider.save()
    existing = Service.objects.filter(provider=provider).count()
    per_category = max(1, total // 100)
    categories = [
        Category.objects.get_or_create(name=f"Bench {i:03d}", defaults={"sort_order": i})[0]
        for i in range(100)
    ]
    rows = []
    for n in range(existing, total):
        rows.append(
            Service(
                provider=provider,
                upstream_id=str(100000 + n),
                upstream_name=f"Bench service {n} followers real HQ",
                upstream_rate=Decimal("0.90000"),
                category=categories[min(n // per_category, 99)],
                name=f"Bench service {n} followers real HQ",
                description="Fast start. Refill 30 days.",
                type="Default",
                min_quantity=10,
                max_quantity=100000,
                dripfeed=n % 5 == 0,
                refill=n % 2 == 0,
                average_time="1 hour",
                rate=Decimal("1.17000"),
                is_enabled=True,
            )
        )
    Service.objects.bulk_create(rows, batch_size=2000)
    return Service.objects.filter(provider=provider).count()


def time_get(client: Any, url: str, repeat: int) -> dict[str, Any]:
    from django.db import connection, reset_queries

    for _ in range(5):  # warm up: template loading, connection, caches
        assert client.get(url, HTTP_HOST="localhost").status_code == 200
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url, HTTP_HOST="localhost")
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    reset_queries()
    connection.force_debug_cursor = True
    response = client.get(url, HTTP_HOST="localhost")
    queries = len(connection.queries)
    connection.force_debug_cursor = False
    samples.sort()
    return {
        "url": url,
        "requests": repeat,
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 2),
        "max_ms": round(samples[-1], 2),
        "queries": queries,
        "bytes": len(response.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    url = bench_database_url("web")
    ensure_database(url)
    setup_django(url)

    from django.test import Client

    from accounts.models import User
    from catalog.selectors import services_for_sale

    bench_services = seed_catalogue(args.services)
    user, _ = User.objects.get_or_create(email="bench-new-order@example.com")
    client = Client()
    client.force_login(user)

    some_service = services_for_sale().filter(provider__name=PROVIDER_NAME).order_by("-id").first()
    results = {
        "new_order_page": time_get(client, "/orders/new/", args.repeat),
        "new_order_page_preselected": time_get(
            client, f"/orders/new/?service={some_service.pk}", args.repeat
        ),
        "service_search": time_get(client, "/orders/new/search/?q=followers+99", args.repeat),
        # The services page: 100 rows a page, badges, descriptions, all-words search.
        "services_page": time_get(client, "/services/", args.repeat),
        "services_search": time_get(client, "/services/?q=real+followers+99", args.repeat),
    }
    report = {
        "name": "new_order_page",
        "params": {
            "services_for_sale": services_for_sale().count(),
            "bench_provider_services": bench_services,
            "repeat": args.repeat,
            "database": "PostgreSQL",
        },
        "metrics": {
            **results,
            "target_ms": TARGET_MS,
            "meets_target": all(
                r["median_ms"] <= TARGET_MS and r["p95_ms"] <= TARGET_MS for r in results.values()
            ),
        },
    }
    out = ROOT / "var" / "bench" / "new_order_page.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
