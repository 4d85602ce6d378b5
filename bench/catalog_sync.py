"""Benchmark: import 10,000 services from the simulator into PostgreSQL.

    .venv/bin/python bench/catalog_sync.py [--sizes 1000,10000] [--repeat 3]

Runs the simulator in a child process, creates and migrates BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/upline_bench), and for each size measures a first sync (every
service new), a re-sync with no upstream change (must write 0 rows) and a re-sync after 10% of the
rates changed, with the SQL queries of each. Targets at 10,000 services: first sync <= 3 s,
re-sync <= 1.5 s, and the same number of queries for every size. Writes var/bench/catalog_sync.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _support import bench_database_url, ensure_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRITE_VERBS = ("INSERT", "UPDATE", "DELETE")
BENCH_PREFIX = "bench-catalog-"


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panel.settings")
    # Quiet: the sync logs one line per run, httpx one per request.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def reset(category_names: set[str]) -> None:
    """Forget every earlier run's provider and the categories only they used, so each first sync
    of every size starts from the same state (it creates its categories)."""
    from catalog.models import Category, Provider, RateChange, Service

    for provider in Provider.objects.filter(name__startswith=BENCH_PREFIX):
        RateChange.objects.filter(service__provider=provider).delete()
        provider.alerts.all().delete()
        Service.objects.filter(provider=provider).delete()
        provider.delete()
    Category.objects.filter(name__in=category_names, services__isnull=True).delete()


def timed_sync(provider_id: int) -> tuple[float, dict[str, int], list[str], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.services import provider_sync_catalogue

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = provider_sync_catalogue(provider_id=provider_id)
        elapsed = time.perf_counter() - started
    assert result.status == "ok", result.error
    sqls = [q["sql"] for q in queries.captured_queries]
    # Writes to the catalogue (the provider row's health/lease UPDATEs are not catalogue rows).
    catalogue_writes = sum(
        1
        for s in sqls
        if s.startswith(WRITE_VERBS) and "catalog_provider" not in s.split("WHERE")[0]
    )
    return elapsed, result.stats() | {"rows_written": result.rows_written}, sqls, catalogue_writes


def _serve_simulator(count: int, pipe: Connection) -> None:
    """The provider, in its own process like a real one (no GIL shared with the sync)."""
    from simulator import run_simulator

    with run_simulator(port=0, services=count, seed=7, frozen_clock=True) as sim:
        categories = sorted({s.category.strip() for s in sim.state.services()})
        pipe.send((sim.url, sim.key, categories))
        while (command := pipe.recv()) != "stop":
            _verb, service_ids, rate = command
            for service_id in service_ids:
                sim.state.update_service(service_id, rate=rate)
            pipe.send("ok")


@contextmanager
def simulator_process(count: int) -> Iterator[tuple[str, str, list[str], Connection]]:
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    process = ctx.Process(target=_serve_simulator, args=(count, theirs), daemon=True)
    process.start()
    try:
        url, key, categories = ours.recv()
        yield url, key, categories, ours
    finally:
        ours.send("stop")
        process.join(timeout=10)


def run_size(count: int, repeat: int) -> dict[str, Any]:
    from catalog.services import provider_create

    name = f"{BENCH_PREFIX}{count}"
    runs: list[dict[str, Any]] = []
    for _ in range(repeat):
        with simulator_process(count) as (url, key, categories, pipe):
            reset(set(categories))
            provider = provider_create(name=name, api_url=url, api_key=key)
            first, first_stats, first_sql, _ = timed_sync(provider.pk)
            again, again_stats, again_sql, again_writes = timed_sync(provider.pk)
            pipe.send(("rates", list(range(1, count + 1, 10)), "123.45"))
            pipe.recv()
            changed, changed_stats, changed_sql, _ = timed_sync(provider.pk)
        assert first_stats["created"] == count, first_stats
        runs.append(
            {
                "first_sync_seconds": first,
                "resync_seconds": again,
                "resync_rows_written": again_stats["rows_written"],
                "resync_catalogue_write_statements": again_writes,
                "changed_sync_seconds": changed,
                "changed_rows": changed_stats["updated"],
                "first_sync_queries": len(first_sql),
                "resync_queries": len(again_sql),
                "changed_sync_queries": len(changed_sql),
            }
        )
    best = {
        key: (min(run[key] for run in runs) if key.endswith("seconds") else runs[-1][key])
        for key in runs[0]
    }
    best["first_sync_seconds_median"] = statistics.median(r["first_sync_seconds"] for r in runs)
    best["resync_seconds_median"] = statistics.median(r["resync_seconds"] for r in runs)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "var" / "bench" / "catalog_sync.json"))
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    url = bench_database_url("catalog")
    ensure_database(url)
    setup_django(url)

    per_size = {str(size): run_size(size, args.repeat) for size in sizes}
    largest = per_size[str(max(sizes))]
    metrics: dict[str, Any] = {
        "services": max(sizes),
        "first_sync_seconds": round(largest["first_sync_seconds"], 3),
        "first_sync_seconds_median": round(largest["first_sync_seconds_median"], 3),
        "resync_seconds": round(largest["resync_seconds"], 3),
        "resync_seconds_median": round(largest["resync_seconds_median"], 3),
        "resync_rows_written": largest["resync_rows_written"],
        "changed_10pct_sync_seconds": round(largest["changed_sync_seconds"], 3),
        "queries_per_first_sync": {size: r["first_sync_queries"] for size, r in per_size.items()},
        "queries_per_resync": {size: r["resync_queries"] for size, r in per_size.items()},
        "queries_per_changed_sync": {
            size: r["changed_sync_queries"] for size, r in per_size.items()
        },
        "targets": {"first_sync_seconds": 3.0, "resync_seconds": 1.5, "resync_rows_written": 0},
    }
    metrics["queries_constant"] = all(
        len(set(metrics[key].values())) == 1
        for key in ("queries_per_first_sync", "queries_per_resync", "queries_per_changed_sync")
    )
    metrics["meets_targets"] = (
        largest["first_sync_seconds"] <= 3.0
        and largest["resync_seconds"] <= 1.5
        and largest["resync_rows_written"] == 0
        and metrics["queries_constant"]
    )
    report = {
        "name": "catalog_sync",
        "params": {
            "sizes": sizes,
            "repeat": args.repeat,
            "database": urlsplit(url)._replace(netloc=urlsplit(url).hostname or "").geturl(),
            "timings": "best of repeat (median also given); simulator in a separate process, HTTP",
        },
        "metrics": metrics,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0 if metrics["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
