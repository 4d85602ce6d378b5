"""Compatibility proof: our own provider client (written from the reference only) works against
a running Upline, and a second Upline instance uses this one as its provider end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from accounts.models import User
from accounts.services import api_key_rotate
from catalog.models import Service
from orders.models import Order, Refill
from orders.services.forwarding import order_forward
from orders.services.status_sync import orders_sync_statuses
from panel.smmapi import ItemError, OrderState, Rejected, RejectReason, SMMClient
from simulator import run_simulator
from tests.factories import ProviderFactory, ServiceFactory

ROOT = Path(__file__).resolve().parents[2]
CHILD_DB = "test_upline_api_child"


@pytest.fixture
def upline(
    live_server: Any, settings: Any, customer: User, service: Service
) -> Iterator[SMMClient]:
    settings.API_RATE_LIMIT_PER_KEY = 100_000
    with SMMClient(f"{live_server.url}/api/v2", api_key_rotate(user=customer)) as client:
        yield client


@pytest.mark.django_db(transaction=True)
def test_it_serves_every_action_to_the_provider_client(
    upline: SMMClient, customer: User, service: Service
) -> None:
    [info] = upline.services()
    assert (info.service_id, info.type, info.rate, info.min, info.max) == (
        str(service.pk),
        "Default",
        Decimal("1.30"),
        10,
        10000,
    )
    assert (info.refill, info.cancel) == (True, True)
    first = upline.add(str(service.pk), {"link": "https://instagram.com/a", "quantity": 1000})
    second = upline.add(str(service.pk), {"link": "https://instagram.com/b", "quantity": 100})
    with pytest.raises(Rejected) as refused:
        upline.add(str(service.pk), {"link": "https://instagram.com/c", "quantity": 1})
    assert refused.value.reason == RejectReason.QUANTITY_BOUNDS

    status = upline.status(first)
    assert (status.status, status.charge, status.remains, status.currency) == (
        OrderState.PENDING,
        Decimal("1.30"),
        1000,
        "USD",
    )
    statuses = upline.statuses([first, second, "424242"])
    assert statuses[second].status == OrderState.PENDING  # type: ignore[union-attr]
    assert isinstance(statuses["424242"], ItemError)
    assert statuses["424242"].reason == RejectReason.BAD_ORDER_ID

    Order.objects.filter(pk=first).update(
        status=Order.Status.COMPLETED,
        upstream_order_id="u1",
        finished_at=timezone.now(),
        remains=0,
        start_count=5,
    )
    refill_id = upline.refill(first)
    assert Refill.objects.get().pk == int(refill_id)
    state = upline.refill_status(refill_id)
    assert state.raw_status == "Pending"
    refills = upline.refills([first, second])
    assert isinstance(refills[first], ItemError)
    assert isinstance(refills[second], ItemError)
    assert refills[second].reason == RejectReason.REFILL_UNAVAILABLE  # type: ignore[union-attr]
    states = upline.refill_statuses([refill_id, "999999"])
    assert isinstance(states["999999"], ItemError)

    canceled = upline.cancel([second, first])
    assert canceled[second] is True
    assert isinstance(canceled[first], ItemError)
    assert canceled[first].reason == RejectReason.CANNOT_CANCEL  # type: ignore[union-attr]
    balance = upline.balance()
    assert (balance.amount, balance.currency) == (Decimal("98.70"), "USD")  # second refunded
    with pytest.raises(Rejected) as bad_key, SMMClient(upline._url, "wrong-key") as stranger:
        stranger.balance()
    assert bad_key.value.reason == RejectReason.BAD_KEY


def child(step: str, **args: object) -> dict[str, Any]:
    """Run one step in the child Upline (a separate process and database)."""
    db = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{CHILD_DB}",
        "CHILD_STEP": step,
        "CHILD_ARGS": json.dumps({k: str(v) for k, v in args.items()}),
        "DJANGO_DEBUG": "true",
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from tests.api.child_panel import run; run()",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("CHILD-RESULT "))
    return json.loads(line.removeprefix("CHILD-RESULT "))


@pytest.fixture
def child_db(requires_postgres: None) -> None:
    db = django_settings.DATABASES["default"]
    base = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}"
    env = {**os.environ, "DATABASE_URL": f"{base}/{CHILD_DB}"}
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {CHILD_DB}")
        conn.execute(f"CREATE DATABASE {CHILD_DB}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.mark.django_db(transaction=True)
def test_a_child_upline_uses_this_one_as_its_provider(
    child_db: None, live_server: Any, settings: Any, reseller: User
) -> None:
    settings.API_RATE_LIMIT_PER_KEY = 100_000
    with run_simulator(frozen_clock=True, partial_share=0, error_rate=0) as sim:
        sim_service = next(
            s for s in sim.state.services() if s.type == "Default" and s.min <= 1000 <= s.max
        )
        provider = ProviderFactory(api_url=sim.url, api_key=sim.key)
        parent_service = ServiceFactory(
            provider=provider,
            upstream_id=str(sim_service.id),
            upstream_rate=sim_service.rate,
            rate=Decimal("2.00000"),
            min_quantity=10,
            max_quantity=10000,
        )
        ids = child(
            "setup",
            parent_url=f"{live_server.url}/api/v2",
            parent_key=api_key_rotate(user=reseller),
            upstream_service_id=parent_service.pk,
            upstream_rate="2.00",
        )
        placed = child("place", user=ids["user"], service=ids["service"])
        assert placed["status"] == Order.Status.SENT
        parent_order = Order.objects.get(user=reseller)
        assert parent_order.charge == Decimal("2.00")  # 1000 at 2.00 per 1000
        assert parent_order.source == Order.Source.API_V2

        assert order_forward(order_id=parent_order.pk) == Order.Status.SENT
        sim.state.finish_all()
        orders_sync_statuses(provider_id=provider.pk)
        parent_order.refresh_from_db()
        assert parent_order.status == Order.Status.COMPLETED

        done = child("sync", provider=ids["provider"], order=placed["order"])
        assert done == {
            "status": "completed",
            "upstream_order_id": str(parent_order.pk),
            "charge": "3.00000",
            "cost": "2.00000",
            "refunded": "0.00000",
            "balance": "17.00000",
        }
        reseller.refresh_from_db()
        assert reseller.balance == Decimal("498.00")
        assert sim.counts["add"] == 1
