"""Two worker hosts (two Celery worker processes with their own node names and concurrency) on
one PostgreSQL and one Redis never send an order twice."""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import LedgerEntry
from accounts.services import balance_credit
from catalog.models import Provider, Service
from orders import tasks
from orders.models import Order
from orders.services import order_place
from panel.celery import app
from simulator import Simulator, run_simulator
from tests.factories import ProviderFactory, ServiceFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
ORDERS = 300


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    # Every add the simulator receives becomes one of its orders, duplicates included.
    with run_simulator(services=[], check_duplicate_links=False, balance="100000") as sim:
        sim.state.add_service(name="followers", id=1, type="Default", rate="1.00", min=10, max=1000)
        yield sim


def _worker(node: str, concurrency: int) -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        # Small batches, so both hosts get a share of one provider's orders.
        "ORDERS_FORWARD_BATCH_SIZE": "5",
        "ORDERS_FORWARD_CONCURRENCY": "4",
    }
    return subprocess.Popen(  # noqa: S603 (our own celery, fixed arguments)
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "panel",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(concurrency),
            "-n",
            f"{node}@%h",
            "-l",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


@pytest.mark.django_db(transaction=True)
def test_two_worker_hosts_never_send_an_order_twice(requires_postgres, simulator: Simulator):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs the Redis broker the workers share")
    provider: Provider = ProviderFactory(name="Sim", api_url=simulator.url, api_key=simulator.key)
    service: Service = ServiceFactory(
        provider=provider, upstream_id="1", type="Default", min_quantity=10, max_quantity=1000
    )
    user = UserFactory()
    balance_credit(user=user, amount=Decimal("100000"), kind=LedgerEntry.Kind.DEPOSIT)
    app.control.purge()
    workers = [_worker("host-a", 4), _worker("host-b", 2)]
    try:
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=1.0)) < 2:
            assert time.monotonic() < deadline, "the workers did not start"
        links = [f"https://x.com/hosts/{i}" for i in range(ORDERS)]
        ids = [
            order_place(
                user=user,
                service_id=service.pk,
                fields={"link": link, "quantity": "100"},
                source="api_v2",
            ).pk
            for link in links
        ]
        # Everything that may wake a worker at once, as after a redelivery or a sweep: several
        # batch runs for the provider and a single-order forward for every order.
        for _ in range(6):
            tasks.forward_provider.delay(provider.pk)
        for order_id in ids:
            tasks.forward_order.delay(order_id)
        deadline = time.monotonic() + 120
        while Order.objects.filter(pk__in=ids, status__in=("queued", "sending")).exists():
            assert time.monotonic() < deadline, "the orders were not all sent"
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)

    received = Counter(order.link for order in simulator.state.orders())
    assert simulator.state.counts["add"] == ORDERS
    assert received == Counter(links)  # every link exactly once
    rows = Order.objects.filter(pk__in=ids)
    assert Counter(rows.values_list("status", flat=True)) == Counter(sent=ORDERS)
    assert {o.upstream_order_id for o in rows} == {str(o.id) for o in simulator.state.orders()}
