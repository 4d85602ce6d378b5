"""Benchmark: the SMM API v2 endpoint and forwarding, driven by wrk, against a floor view.

    .venv/bin/python bench/api.py [--orders 30000] [--slice 5] [--rounds 4] [--connections 16]

One run, one gunicorn (sync workers, DJANGO_DEBUG=false, PostgreSQL, Redis), load from wrk
(bench/wrk_*.lua; every response body is checked, a wrong body counts as bad):

* the floor: a minimal Django view doing one indexed SELECT (bench/api_floor, never in product
  URLs), through the project's settings and middleware;
* `add`, request path only: no order forwarded meanwhile, 1,000 API keys in turn (each with
  the default per-key limit; the per-IP limit is lifted because all load comes from 127.0.0.1);
* `status` of 100 ids: each key asks for 100 of its own orders;
* forwarding drain: the request-path slices run with the provider paused; then it is resumed
  and the worker woken: orders per second until every queued order is sent to the simulator;
* `add` end to end: the worker running; each slice counts until every order it placed is sent
  (slice time plus the wait), and every order must reach the simulator exactly once.
The floor and the measured kinds alternate in short slices, so load from elsewhere on the
machine hits both sides of each ratio. `--orders` orders are in the table before the run.

Uses the database <BENCH_DATABASE_URL>_api (dropped and recreated) and BENCH_REDIS_URL.
Prints one table (figure, target, pass/fail) and writes var/bench/api.json.
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
from typing import Any

from _support import bench_database_url, ensure_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
KEYS = 1000
STATUS_IDS = 100
TARGETS = {
    "add_share": 0.35,
    "add_p95_ms": 60.0,
    "e2e_share": 0.15,
    "status_share": 0.45,
    "status_p95_ms": 50.0,
    "drain_per_second": 600.0,
    "worker_rss_mb": 250.0,
    # add and status with 1,000,000 orders in the table: within 10 % of their figures at 30,000.
    "scale_ratio": 0.9,
}


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
        # All load comes from one address; the per-key limit stays the default.
        "API_RATE_LIMIT_PER_IP": "100000000",
        # The simulator listens on 127.0.0.1.
        "SMMAPI_ALLOW_PRIVATE_HOSTS": "true",
        "LOG_LEVEL": "WARNING",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[Any], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


# --- seeding -----------------------------------------------------------------------------------


def prepare(
    db_url: str, redis_url: str, *, orders: int, sim_url: str, keys_file: str = "api-keys.tsv"
) -> dict[str, Any]:
    """Migrate a fresh database; seed a provider on the simulator, a service, 1,000 funded
    resellers with API keys and `orders` orders spread over them."""
    ensure_database(db_url)
    os.environ.update(server_env(db_url, redis_url))
    os.environ["DJANGO_SETTINGS_MODULE"] = "panel.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from accounts.models import ApiKey, LedgerEntry, User
    from accounts.services import _hash_key, balance_credit
    from catalog.models import Category, Provider, Service
    from orders.models import Order

    provider = Provider(name="Bench: api", api_url=sim_url)
    provider.api_key = "sim-key"
    provider.save()
    service = Service.objects.create(
        provider=provider,
        upstream_id="1",
        upstream_name="Bench followers",
        upstream_rate=Decimal("0.50"),
        category=Category.objects.create(name="Bench: api"),
        name="Bench followers",
        rate=Decimal("1.00"),
        min_quantity=10,
        max_quantity=100000,
        is_enabled=True,
    )
    users = [User(email=f"bench-api-{i}@example.com", role="reseller") for i in range(KEYS)]
    for user in users:
        user.set_unusable_password()
    users = User.objects.bulk_create(users)
    keys = [f"{i:08x}" + os.urandom(24).hex() for i in range(KEYS)]
    ApiKey.objects.bulk_create(
        ApiKey(user=user, prefix=key[:8], key_hash=_hash_key(key))
        for user, key in zip(users, keys, strict=True)
    )
    for user in users:
        balance_credit(user=user, amount=Decimal("1000000"), kind=LedgerEntry.Kind.DEPOSIT)

    # The orders already in the table: one template row copied by generate_series (seconds for
    # a million rows), owned round-robin by the first `owners` users, each answering `status`.
    owners = max(1, min(KEYS, orders // STATUS_IDS))
    template = Order.objects.create(
        user=users[0],
        service=service,
        provider=provider,
        upstream_service_id=service.upstream_id,
        type="Default",
        link="https://instagram.com/p/seed-",
        quantity=100,
        fields={"link": "https://instagram.com/p/seed", "quantity": "100"},
        rate=Decimal("1.00"),
        charge=Decimal("0.10"),
        status=Order.Status.IN_PROGRESS,
        upstream_order_id="seed-0",
        source=Order.Source.API_V2,
    )
    owner_ids = [user.pk for user in users[:owners]]
    seed_orders(template=template.pk, owners=owner_ids, first=1, last=orders - 1)
    quote = connection.ops.quote_name
    table = quote(Order._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT user_id, array_agg(id ORDER BY id) FROM {table} "  # noqa: S608
            "GROUP BY user_id"
        )
        by_owner = dict(cursor.fetchall())
    rows = []
    for user, key in zip(users, keys, strict=True):
        ids = by_owner.get(user.pk, [])
        if len(ids) >= STATUS_IDS:
            step = len(ids) / STATUS_IDS
            ids = [ids[int(i * step)] for i in range(STATUS_IDS)]
            rows.append(f"{key}\t{user.pk}\t{','.join(map(str, ids))}")
        else:
            rows.append(f"{key}\t{user.pk}\t-")
    data = ROOT / "var" / "bench" / keys_file
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text("\n".join(rows) + "\n")
    return {"service": service.pk, "provider": provider.pk, "data": str(data)}


def seed_orders(*, template: int, owners: list[int], first: int, last: int) -> None:
    """Copies of the template order numbered first..last, owned round-robin by `owners`, then
    VACUUM ANALYZE: plans see the table as it now is, and autovacuum, which a bulk load like
    this one sets off, does not run through the measured slices (a panel that grew to this
    size over months has long been vacuumed)."""
    from django.db import connection

    from orders.models import Order

    quote = connection.ops.quote_name
    columns = [f.column for f in Order._meta.concrete_fields if f.column != "id"]
    overrides = {
        "user_id": f"(%s::bigint[])[1 + (g %% {len(owners)})]",
        "link": "t.link || g",
        "upstream_order_id": "'seed-' || g",
    }
    select = ", ".join(overrides.get(column, f"t.{quote(column)}") for column in columns)
    table = quote(Order._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(map(quote, columns))}) "  # noqa: S608 (model identifiers)
            f"SELECT {select} FROM {table} t, generate_series(%s, %s) g WHERE t.id = %s",
            [owners, first, last, template],
        )
        cursor.execute(f"VACUUM ANALYZE {table}")


def seed_elsewhere(db_url: str, redis_url: str, *, orders: int, sim_url: str) -> dict[str, Any]:
    """``prepare`` for a second database, in a process of its own (this one's Django is bound
    to the first); its provider is paused, like the first's during the request-path slices."""
    completed = subprocess.run(
        [
            str(ROOT / ".venv/bin/python"),
            str(Path(__file__).resolve()),
            "--seed-only",
            db_url,
            "--orders",
            str(orders),
            "--sim-url",
            sim_url,
        ],
        cwd=ROOT,
        env={**os.environ, "BENCH_REDIS_URL": redis_url},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


# --- processes ---------------------------------------------------------------------------------


def start_simulator(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/python"),
            "manage.py",
            "simulate_provider",
            f"--port={port}",
            "--speed=3600",
            "--balance=100000000",
            # Every add becomes a simulator order, so the count of adds is exact.
            "--allow-duplicate-links",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, process, "the simulator")
    return process


def start_gunicorn(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "panel.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--log-level=warning",
            f"--chdir={ROOT}",
        ],
        env={**env, "DJANGO_SETTINGS_MODULE": "bench.api_floor.settings"},
        cwd=ROOT,
    )
    wait_for_port(port, process, "gunicorn")
    return process


# Provider calls are I/O: one process, tasks on threads (each batch has its own pool of senders).
WORKER_ARGS = ["--pool", "threads", "--concurrency", "4"]


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "panel",
            "worker",
            "-l",
            "WARNING",
            *WORKER_ARGS,
            "-n",
            "bench-api@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def wait_for_worker(app: Any) -> None:
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=1.0):
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not answer a ping in 60 s")


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (a prefork pool), in MB."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
        )
        pending.extend(int(child) for child in children)
    return total / 1024


def sim_adds(sim_url: str) -> int:
    import httpx

    snapshot = httpx.post(sim_url.replace("/api/v2", "/_control"), json={}, timeout=10).json()
    return int(snapshot["counts"].get("add", 0))


# --- load --------------------------------------------------------------------------------------


def wrk(
    script: str, port: int, seconds: float, args: argparse.Namespace, *extra: str
) -> dict[str, Any]:
    completed = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{round(seconds)}s",
            "--timeout=10s",
            "-s",
            f"bench/wrk_{script}.lua",
            f"http://127.0.0.1:{port}",
            "--",
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next((row for row in completed.stdout.splitlines() if row.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {completed.stdout}{completed.stderr}")
    return json.loads(line.removeprefix("BENCH "))


class Kind:
    """The slices of one kind of request: totals and per-slice figures."""

    def __init__(self) -> None:
        self.slices: list[dict[str, Any]] = []

    def add(self, result: dict[str, Any], *, seconds: float | None = None) -> None:
        result["seconds"] = seconds if seconds is not None else result["duration_us"] / 1e6
        self.slices.append(result)

    def summary(self) -> dict[str, Any]:
        requests = sum(s["requests"] for s in self.slices)
        seconds = sum(s["seconds"] for s in self.slices)
        return {
            "requests": requests,
            "seconds": round(seconds, 2),
            "rps": round(requests / seconds, 1) if seconds else 0.0,
            "rps_per_slice": [round(s["requests"] / s["seconds"], 1) for s in self.slices],
            # The median slice's p95 (percentiles of separate runs do not add up).
            "p95_ms": round(statistics.median(s["p95_us"] for s in self.slices) / 1000, 1),
            "p95_ms_worst_slice": round(max(s["p95_us"] for s in self.slices) / 1000, 1),
            "p50_ms": round(statistics.median(s["p50_us"] for s in self.slices) / 1000, 1),
            "bad_bodies": sum(s["bad"] for s in self.slices),
            "socket_errors": sum(s["socket_errors"] for s in self.slices),
            "first_bad": next((s["first_bad"] for s in self.slices if s["first_bad"]), ""),
        }


def run(args: argparse.Namespace) -> dict[str, Any]:
    db_url = bench_database_url("api")
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    env = server_env(db_url, redis_url)
    sim_port, web_port = free_port(), free_port()
    sim_url = f"http://127.0.0.1:{sim_port}/api/v2"
    sim = start_simulator(sim_port, env)
    processes: list[subprocess.Popen[bytes]] = [sim]
    try:
        started = time.monotonic()
        setup = prepare(db_url, redis_url, orders=args.orders, sim_url=sim_url)
        seeded_seconds = time.monotonic() - started
        from django.db.models import Count

        from catalog.models import Provider
        from orders import tasks
        from orders.models import Order
        from panel.celery import app

        app.control.purge()
        web = start_gunicorn(web_port, args.workers, env)
        processes.append(web)
        data, service = setup["data"], str(setup["service"])
        run_id = str(time.time_ns())
        floor, add, status, e2e = Kind(), Kind(), Kind(), Kind()
        # Warm every worker process (connections, caches, the broker producer) first.
        for script in ("floor", "add", "status"):
            wrk(script, web_port, 1, args, data, service, f"{run_id}w")

        # Request path: the worker runs, but the provider is paused, so the orders stay queued
        # for the drain below (the wake-ups the orders send find the provider paused).
        Provider.objects.filter(pk=setup["provider"]).update(is_paused=True)
        worker = start_worker(env)
        processes.append(worker)
        wait_for_worker(app)
        for round_no in range(args.rounds):
            floor.add(wrk("floor", web_port, args.slice, args, data))
            add.add(wrk("add", web_port, args.slice, args, data, service, f"{run_id}a{round_no}"))
            status.add(wrk("status", web_port, args.slice, args, data))

        # Drain: resume the provider and wake the worker; time until every order is sent.
        open_statuses = (Order.Status.QUEUED, Order.Status.SENDING)
        queued = Order.objects.filter(status=Order.Status.QUEUED).count()
        rss = tree_rss_mb(worker.pid)
        Provider.objects.filter(pk=setup["provider"]).update(is_paused=False)
        drain_start = time.monotonic()
        tasks.forward_provider.delay(setup["provider"])
        deadline = drain_start + args.drain_timeout
        while Order.objects.filter(status__in=open_statuses).exists():
            rss = max(rss, tree_rss_mb(worker.pid))
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        drain_seconds = time.monotonic() - drain_start
        sent = Order.objects.filter(sent_at__isnull=False).count()
        drain = {
            "queued": queued,
            "sent": sent,
            "seconds": round(drain_seconds, 2),
            "per_second": round(sent / drain_seconds, 1),
        }

        # End to end: each add slice is timed until all of its orders are sent.
        for round_no in range(args.rounds):
            floor.add(wrk("floor", web_port, args.slice, args, data))
            before = Order.objects.order_by("-id").values_list("id", flat=True).first() or 0
            slice_start = time.monotonic()
            result = wrk("add", web_port, args.slice, args, data, service, f"{run_id}e{round_no}")
            mine = Order.objects.filter(pk__gt=before)
            deadline = time.monotonic() + args.drain_timeout
            while mine.filter(status__in=open_statuses).exists() and time.monotonic() < deadline:
                rss = max(rss, tree_rss_mb(worker.pid))
                time.sleep(0.05)
            e2e.add(result, seconds=time.monotonic() - slice_start)
        rss = max(rss, tree_rss_mb(worker.pid))
        # A request still in a web worker when wrk stopped commits after the slice: count only
        # once nothing has been open for a second.
        quiet_since, deadline = None, time.monotonic() + args.drain_timeout
        while time.monotonic() < deadline:
            if Order.objects.filter(status__in=open_statuses).exists():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= 1.0:
                break
            time.sleep(0.05)

        placed = Order.objects.exclude(upstream_order_id__startswith="seed-")
        by_status = dict(placed.values_list("status").annotate(n=Count("id")).order_by())
        exactly_once = {
            "orders_placed": placed.count(),
            "orders_sent": placed.filter(sent_at__isnull=False).count(),
            "adds_received_by_simulator": sim_adds(sim_url),
            "statuses": by_status,
        }

        # Scale: a second database seeded with --scale-orders orders, its own gunicorn, and
        # its slices alternating with the first's, so that both sizes see the same machine.
        scale: dict[str, Any] = {}
        if args.scale_orders > args.orders:
            Provider.objects.filter(pk=setup["provider"]).update(is_paused=True)
            big_db = bench_database_url("api_scale")
            started = time.monotonic()
            big_setup = seed_elsewhere(big_db, redis_url, orders=args.scale_orders, sim_url=sim_url)
            scale["orders_in_table"] = args.scale_orders
            scale["seeded_seconds"] = round(time.monotonic() - started, 1)
            big_env = {**server_env(big_db, redis_url)}
            big_web_port = free_port()
            processes.append(start_gunicorn(big_web_port, args.workers, big_env))
            big_data, big_service = big_setup["data"], str(big_setup["service"])
            for script in ("add", "status"):
                wrk(script, big_web_port, 1, args, big_data, big_service, f"{run_id}bw")
            sides = {
                "small": (web_port, data, service, {"add": Kind(), "status_100": Kind()}),
                "big": (big_web_port, big_data, big_service, {"add": Kind(), "status_100": Kind()}),
            }
            for round_no in range(args.rounds):
                order = ("small", "big") if round_no % 2 == 0 else ("big", "small")
                for kind, script in (("add", "add"), ("status_100", "status")):
                    for side in order:
                        port, keys, sold, kinds = sides[side]
                        stamp = f"{run_id}{side}{round_no}"
                        kinds[kind].add(wrk(script, port, args.slice, args, keys, sold, stamp))
            for side, (_, _, _, kinds) in sides.items():
                scale[side] = {kind: runs.summary() for kind, runs in kinds.items()}
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    return {
        "seeded_seconds": round(seeded_seconds, 1),
        "floor": floor.summary(),
        "add": add.summary(),
        "status_100": status.summary(),
        "add_end_to_end": e2e.summary(),
        "drain": drain,
        "worker_rss_mb": round(rss, 1),
        "exactly_once": exactly_once,
        "scale": scale,
    }


def share(part: float, whole: float) -> float:
    return round(part / whole, 3) if whole else 0.0


def report(args: argparse.Namespace, measured: dict[str, Any]) -> dict[str, Any]:
    floor_rps = measured["floor"]["rps"]
    add, status, e2e = measured["add"], measured["status_100"], measured["add_end_to_end"]
    once = measured["exactly_once"]
    every_order_once = (
        once["orders_placed"] == once["orders_sent"] == once["adds_received_by_simulator"]
    )
    no_bad = all(
        measured[kind]["bad_bodies"] == 0 and measured[kind]["socket_errors"] == 0
        for kind in ("floor", "add", "status_100", "add_end_to_end")
    )
    rows = [
        ("floor req/s", floor_rps, None, None),
        ("add (request path) req/s", add["rps"], None, None),
        (
            "add share of floor",
            share(add["rps"], floor_rps),
            f">= {TARGETS['add_share']}",
            share(add["rps"], floor_rps) >= TARGETS["add_share"],
        ),
        (
            "add p95 ms",
            add["p95_ms"],
            f"<= {TARGETS['add_p95_ms']}",
            add["p95_ms"] <= TARGETS["add_p95_ms"],
        ),
        ("add end to end orders/s", e2e["rps"], None, None),
        (
            "add end to end share of floor",
            share(e2e["rps"], floor_rps),
            f">= {TARGETS['e2e_share']}",
            share(e2e["rps"], floor_rps) >= TARGETS["e2e_share"],
        ),
        ("every order sent exactly once", every_order_once, "yes", every_order_once),
        ("status of 100 req/s", status["rps"], None, None),
        (
            "status share of floor",
            share(status["rps"], floor_rps),
            f">= {TARGETS['status_share']}",
            share(status["rps"], floor_rps) >= TARGETS["status_share"],
        ),
        (
            "status p95 ms",
            status["p95_ms"],
            f"<= {TARGETS['status_p95_ms']}",
            status["p95_ms"] <= TARGETS["status_p95_ms"],
        ),
        (
            "forwarding drain orders/s",
            measured["drain"]["per_second"],
            f">= {TARGETS['drain_per_second']}",
            measured["drain"]["per_second"] >= TARGETS["drain_per_second"],
        ),
        ("drain share of floor", share(measured["drain"]["per_second"], floor_rps), None, None),
        (
            "worker RSS MB",
            measured["worker_rss_mb"],
            f"<= {TARGETS['worker_rss_mb']}",
            measured["worker_rss_mb"] <= TARGETS["worker_rss_mb"],
        ),
        ("bad bodies / socket errors", "none" if no_bad else "some", "none", no_bad),
        *scale_rows(measured),
    ]
    table = [
        {"figure": name, "value": value, "target": target or "", "pass": passed}
        for name, value, target, passed in rows
    ]
    return {
        "name": "api",
        "params": {
            "orders_in_table": args.orders,
            "scale_orders": args.scale_orders,
            "api_keys": KEYS,
            "server": f"gunicorn, {args.workers} sync workers, DEBUG off, PostgreSQL, Redis",
            "worker": "celery " + " ".join(WORKER_ARGS),
            "driver": f"wrk -t{args.threads} -c{args.connections}, bodies checked in Lua",
            "slice_seconds": args.slice,
            "rounds": args.rounds,
            "p95": "median of the slices' p95",
            "cpus": os.cpu_count(),
        },
        "metrics": {
            **measured,
            "table": table,
            "passed": all(r["pass"] is not False for r in table),
        },
    }


def scale_rows(measured: dict[str, Any]) -> list[tuple[str, Any, str | None, bool | None]]:
    """add and status against a table of --scale-orders orders, next to the same requests
    against the first table in alternating slices (so both see the same machine)."""
    scale = measured["scale"]
    if not scale:
        return []
    size = f"{scale['orders_in_table'] // 1000:,}k"
    rows: list[tuple[str, Any, str | None, bool | None]] = []
    for kind, name in (("add", "add"), ("status_100", "status")):
        small, big = scale["small"][kind], scale["big"][kind]
        ratio = round(big["rps"] / small["rps"], 3) if small["rps"] else 0.0
        rows += [
            (f"{name} req/s at {size} orders", big["rps"], None, None),
            (
                f"{name} at {size} / alongside at start",
                ratio,
                f">= {TARGETS['scale_ratio']}",
                ratio >= TARGETS["scale_ratio"],
            ),
        ]
    no_bad = all(
        runs["bad_bodies"] == 0 and runs["socket_errors"] == 0
        for side in ("small", "big")
        for runs in scale[side].values()
    )
    rows.append(
        (f"bad bodies / socket errors at {size}", "none" if no_bad else "some", "none", no_bad)
    )
    return rows


def print_table(result: dict[str, Any]) -> None:
    print(f"{'figure':<38} {'value':>10}  {'target':<10} result")
    for row in result["metrics"]["table"]:
        verdict = "" if row["pass"] is None else ("pass" if row["pass"] else "FAIL")
        value = row["value"]
        shown = f"{value:.1%}" if "share" in row["figure"] else str(value)
        print(f"{row['figure']:<38} {shown:>10}  {row['target']:<10} {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=30000, help="orders in the table")
    parser.add_argument("--slice", type=int, default=5, help="seconds per slice")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    # gunicorn's rule of thumb, 2 x cores + 1: requests overlap their database round trips.
    default_workers = 2 * (os.cpu_count() or 1) + 1
    parser.add_argument("--workers", type=int, default=default_workers, help="gunicorn workers")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument(
        "--scale-orders",
        type=int,
        default=0,
        help="then grow the table to this many orders and measure add and status again",
    )
    parser.add_argument("--out", default="api", help="var/bench/<out>.json")
    parser.add_argument("--seed-only", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--sim-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        # For seed_elsewhere: seed that database, answer its setup as one JSON line.
        redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
        setup = prepare(
            args.seed_only,
            redis_url,
            orders=args.orders,
            sim_url=args.sim_url,
            keys_file="api-keys-scale.tsv",
        )
        from catalog.models import Provider

        Provider.objects.filter(pk=setup["provider"]).update(is_paused=True)
        print(json.dumps({"service": setup["service"], "data": setup["data"]}))
        return
    result = report(args, run(args))
    out = ROOT / "var" / "bench" / f"{args.out}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print_table(result)


if __name__ == "__main__":
    main()
