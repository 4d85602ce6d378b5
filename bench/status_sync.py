"""Benchmark: batched status sync of open orders at the simulator.

    .venv/bin/python bench/status_sync.py [--orders 10000] [--providers 1] [--parallel 1]

Uses PostgreSQL at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/upline_bench),
created afresh, and the simulator in a child process (so the provider's own work is not counted
against our sync, as with a remote provider). Places N orders upstream, writes
them as sent (with their charges in the ledger), then times two syncs: one where every order
moves to "In progress" (no money moves) and one where every order reaches its final status
(~10% Partial, each refunded once). Records wall seconds, provider calls (must
be ceil(N/100)), and SQL queries (per batch; constant for the first pass). Target: <= 5 s.
With ``--providers P`` the orders are spread over P providers (one simulator behind them all)
and each pass syncs every provider, ``--parallel K`` of them at a time in separate processes
(as K worker processes would); the scale target is 100,000 orders over 10 providers in
<= 20 s with exactly 1,000 provider calls. Writes var/bench/status_sync[_<P>p_<N>].json.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

from _support import bench_database_url, ensure_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(url: str) -> None:
    sys.path.insert(0, str(ROOT / "bench"))

    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panel.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if "BENCH_REDIS_URL" in os.environ:
        os.environ["CACHE_URL"] = os.environ["BENCH_REDIS_URL"]
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def serve_simulator(conn: Any, count: int, stamp: int) -> None:
    """In the child process: a simulator holding ``count`` orders; tells the parent their ids."""
    from simulator import run_simulator

    with run_simulator(
        services=[], frozen_clock=True, speed=100, balance="100000000", cancel_share=0
    ) as sim:
        sim.state.add_service(name="Bench", id=1, rate="1.00", min=10, max=100000)
        upstream_ids = [
            sim.state.place_order({"service": "1", "link": link(stamp, i), "quantity": "100"})
            for i in range(count)
        ]
        conn.send((sim.url, sim.key, sim.control_url, upstream_ids))
        conn.recv()  # serve until the parent is done
    # Why _exit: the child inherited the parent's closed DB connection objects and atexit
    # hooks; skipping them keeps the parent's state untouched.
    os._exit(0)


def link(stamp: int, i: int) -> str:
    return f"https://example.com/{stamp}/{i}"


def control(url: str, commands: dict[str, Any] | None = None) -> dict[str, Any]:
    """Steer the simulator (POST) or read its snapshot (GET) through /_control."""
    data = json.dumps(commands).encode() if commands is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def seed(
    sim_url: str, sim_key: str, upstream_ids: list[int], stamp: int, providers: int
) -> tuple[list[int], list[int]]:
    """Fresh providers with the orders sent upstream (round-robin), charged in our ledger."""
    from django.db import transaction
    from django.db.models import F

    from accounts.models import LedgerEntry, User
    from accounts.services import balance_credit
    from catalog.models import Category, Provider, Service
    from orders.models import Order

    count = len(upstream_ids)
    category = Category.objects.create(name=f"bench-status-{stamp}")
    services = []
    for number in range(providers):
        provider = Provider(name=f"bench-status-{stamp}-{number}", api_url=sim_url)
        provider.api_key = sim_key
        provider.save()
        services.append(
            Service.objects.create(
                provider=provider,
                category=category,
                upstream_id="1",
                upstream_name="Bench",
                name="Bench",
                upstream_rate=Decimal("1.00"),
                rate=Decimal("1.30"),
                min_quantity=10,
                max_quantity=100000,
                is_enabled=True,
            )
        )
    user = User.objects.create_user(f"bench-status-{stamp}@example.com")
    charge = Decimal("0.13000")  # 100 units at 1.30 per 1000
    balance_credit(user=user, amount=charge * count, kind=LedgerEntry.Kind.DEPOSIT)
    balance = charge * count
    orders = []
    for i, upstream in enumerate(upstream_ids):
        service = services[i % providers]
        orders.append(
            Order(
                user=user,
                service=service,
                provider_id=service.provider_id,
                upstream_service_id="1",
                type="Default",
                link=link(stamp, i),
                quantity=100,
                fields={"link": link(stamp, i), "quantity": "100"},
                rate=Decimal("1.30"),
                charge=charge,
                status=Order.Status.SENT,
                upstream_order_id=str(upstream),
            )
        )
    with transaction.atomic():
        created = Order.objects.bulk_create(orders, batch_size=2000)
        entries = []
        for order in created:
            balance -= charge
            entries.append(
                LedgerEntry(
                    user=user,
                    kind=LedgerEntry.Kind.ORDER_CHARGE,
                    amount=-charge,
                    balance_after=balance,
                    order=order,
                )
            )
        LedgerEntry.objects.bulk_create(entries, batch_size=2000)
        User.objects.filter(pk=user.pk).update(balance=F("balance") - charge * count)
    return [service.provider_id for service in services], [o.pk for o in created]


def _sync_in_child(provider_id: int) -> tuple[int, Any]:
    """One provider's sync in a pool process; its query count and stats."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.services import orders_sync_statuses

    with CaptureQueriesContext(connection) as queries:
        stats = orders_sync_statuses(provider_id=provider_id)
    connection.close()
    return len(queries), stats


def timed_sync(provider_ids: list[int], control_url: str, parallel: int) -> dict[str, Any]:
    from django.db import connection

    before = control(control_url)["counts"].get("status", 0)
    # The pool's processes open their own connections; none may inherit ours.
    connection.close()
    context = multiprocessing.get_context("fork")
    start = time.perf_counter()
    with context.Pool(parallel) as pool:
        results = pool.map(_sync_in_child, provider_ids)
    wall = time.perf_counter() - start
    return {
        "wall_seconds": round(wall, 3),
        "provider_calls": control(control_url)["counts"].get("status", 0) - before,
        "sql_queries": sum(queries for queries, _ in results),
        "polled": sum(stats.polled for _, stats in results),
        "changed": sum(stats.changed for _, stats in results),
        "finished": sum(stats.finished for _, stats in results),
        "refunds": sum(stats.refunds for _, stats in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--providers", type=int, default=1)
    parser.add_argument("--parallel", type=int, default=1, help="providers synced at a time")
    args = parser.parse_args()
    url = bench_database_url("status")
    setup_django(url)

    from django.db import connection
    from django.db.models import Sum

    from accounts.models import LedgerEntry, User
    from orders.models import Order

    count = args.orders
    stamp = time.time_ns()
    # The child must not share the parent's open database connection.
    connection.close()
    context = multiprocessing.get_context("fork")
    parent_end, child_end = context.Pipe()
    child = context.Process(target=serve_simulator, args=(child_end, count, stamp))
    child.start()
    try:
        sim_url, sim_key, control_url, upstream_ids = parent_end.recv()
        provider_ids, ids = seed(sim_url, sim_key, upstream_ids, stamp, args.providers)
        control(control_url, {"advance": 50})  # every order is now In progress upstream
        progress = timed_sync(provider_ids, control_url, args.parallel)
        # Every order reaches its fate: Completed, Partial or Canceled.
        control(control_url, {"finish_all": True})
        final = timed_sync(provider_ids, control_url, args.parallel)
    finally:
        parent_end.send("stop")
        child.join(timeout=30)

    batches = sum(math.ceil(len(ids[i :: args.providers]) / 100) for i in range(args.providers))
    user_id = Order.objects.filter(pk=ids[0]).values_list("user_id", flat=True).get()
    ledger = LedgerEntry.objects.filter(user_id=user_id).aggregate(s=Sum("amount"))["s"]
    balance = User.objects.filter(pk=user_id).values_list("balance", flat=True).get()
    statuses = dict(
        Order.objects.filter(pk__in=ids).values_list("status").annotate(n=Sum(1)).order_by()
    )
    result = {
        "name": "status_sync",
        "params": {
            "orders": count,
            "providers": args.providers,
            "parallel": args.parallel,
            "batch": 100,
            "database": url.rsplit("/", 1)[-1],
        },
        "metrics": {
            "in_progress_pass": progress,
            "final_pass": final,
            "expected_provider_calls": batches,
            "queries_per_batch_in_progress_pass": round(progress["sql_queries"] / batches, 2),
            "final_statuses": statuses,
            "ledger_matches_balance": ledger == balance,
        },
    }
    suffix = "" if args.providers == 1 else f"_{args.providers}p_{count}"
    out = ROOT / "var" / "bench" / f"status_sync{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    assert progress["provider_calls"] == batches, "provider calls must be ceil(N/100) each"


if __name__ == "__main__":
    main()
