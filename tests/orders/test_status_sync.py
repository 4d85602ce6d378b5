import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import LedgerEntry, User
from catalog.models import Provider, Service
from orders.models import Order
from orders.services import order_forward, order_place, orders_sync_statuses
from simulator import Simulator


def sent(user: User, service: Service, link: str = "https://x.com/a", **fields: str) -> Order:
    fields = {"link": link, "quantity": "1000", **fields}
    order = order_place(user=user, service_id=service.pk, fields=fields, source="web")
    assert order_forward(order_id=order.pk) == "sent"
    order.refresh_from_db()
    return order


def open_orders(user: User, service: Service, sim: Simulator, count: int) -> None:
    """Orders already sent upstream, written in bulk (free, so no ledger rows are needed)."""
    rows = []
    for i in range(count):
        upstream_id = sim.state.place_order(
            {"service": service.upstream_id, "link": f"https://x.com/{i}", "quantity": "10"}
        )
        rows.append(
            Order(
                user=user,
                service=service,
                provider=service.provider,
                upstream_service_id=service.upstream_id,
                type="Default",
                link=f"https://x.com/{i}",
                quantity=10,
                rate=0,
                charge=0,
                status=Order.Status.SENT,
                upstream_order_id=str(upstream_id),
            )
        )
    Order.objects.bulk_create(rows)


def sync(provider: Provider) -> None:
    orders_sync_statuses(provider_id=provider.pk)


def test_it_moves_an_order_to_in_progress_and_completed(customer, services, provider, sim):
    order = sent(customer, services["default"])
    sim.state.advance(50)
    sync(provider)
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS
    upstream = sim.state.order(int(order.upstream_order_id))
    assert order.start_count == upstream.start_count
    assert order.cost == Decimal("1.00000")
    sim.state.finish_all()
    sync(provider)
    order.refresh_from_db()
    assert (order.status, order.remains, order.refunded) == ("completed", 0, 0)
    assert order.finished_at is not None


def test_it_refunds_remains_on_partial_once(customer, services, provider, sim):
    order = sent(customer, services["default"])
    sim.state.set_order(int(order.upstream_order_id), status="Partial", remains=400)
    sync(provider)
    sync(provider)
    order.refresh_from_db()
    customer.refresh_from_db()
    # 400 of 1000 at 1.50 per 1000
    assert (order.status, order.remains, order.refunded) == ("partial", 400, Decimal("0.60000"))
    assert customer.balance == Decimal("99.10000")
    assert LedgerEntry.objects.filter(order=order, kind="refund").count() == 1


@pytest.mark.parametrize("remains", [-50, 5000])
def test_it_holds_a_partial_with_impossible_remains_instead_of_clamping(
    customer, services, provider, sim, remains
):
    order = sent(customer, services["default"])
    sim.state.set_order(int(order.upstream_order_id), status="Partial", remains=remains)
    sync(provider)
    order.refresh_from_db()
    assert (order.status, order.review_reason, order.refunded) == (
        "needs_review",
        "impossible_number",
        Decimal(0),
    )
    assert (order.review_data["remains"], order.review_data["units"]) == (remains, 1000)
    assert not LedgerEntry.objects.filter(order=order, kind="refund").exists()


@pytest.mark.parametrize("spelling", ["Canceled", "Cancelled", "Refunded"])
def test_it_refunds_canceled_orders_in_full(customer, services, provider, sim, spelling):
    order = sent(customer, services["default"])
    sim.state.set_order(int(order.upstream_order_id), status=spelling, remains=1000)
    sync(provider)
    order.refresh_from_db()
    assert (order.status, order.refunded) == ("canceled", Decimal("1.50000"))


def test_it_refunds_drip_feed_remains_over_all_runs(customer, services, provider, sim):
    order = sent(customer, services["default"], quantity="100", runs="4", interval="5")
    sim.state.set_order(int(order.upstream_order_id), status="Partial", remains=100)
    sync(provider)
    order.refresh_from_db()
    # Charged 400 units at 1.50 per 1000 = 0.60; 100 undelivered = 0.15.
    assert (order.refunded, order.runs_delivered) == (Decimal("0.15000"), 3)


def test_it_never_moves_an_order_backwards(customer, services, provider, sim):
    order = sent(customer, services["default"])
    sim.state.set_order(int(order.upstream_order_id), status="In progress")
    sync(provider)
    sim.state.set_order(int(order.upstream_order_id), status="Pending")
    sync(provider)
    order.refresh_from_db()
    assert (order.status, order.upstream_status) == ("in_progress", "Pending")


@pytest.mark.parametrize("spelling", ["Weird", ""])
def test_it_keeps_the_status_on_an_unknown_spelling(customer, services, provider, sim, spelling):
    order = sent(customer, services["default"])
    sim.state.set_order(int(order.upstream_order_id), status=spelling, remains=10)
    sync(provider)
    order.refresh_from_db()
    assert (order.status, order.refunded) == ("sent", 0)


@pytest.mark.parametrize("spelling", ["Fail", "Error"])
def test_it_holds_an_order_the_provider_reports_failed(customer, services, provider, sim, spelling):
    order = sent(customer, services["default"])
    sim.state.set_order(int(order.upstream_order_id), status=spelling, remains=10)
    sync(provider)
    order.refresh_from_db()
    assert (order.status, order.review_reason, order.refunded) == (
        "needs_review",
        "provider_failed",
        0,
    )
    assert order.review_data["provider_status"] == spelling


def test_it_understands_odd_spellings_and_int_numbers(customer, services, provider, sim):
    orders = [sent(customer, services["default"], link=f"https://x.com/{i}") for i in range(5)]
    sim.state.set_knobs(odd_status_rate=1, int_numbers_rate=1)
    sim.state.advance(50)
    sync(provider)
    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in orders])} == {
        "in_progress"
    }


def test_it_records_errors_for_unknown_upstream_ids(customer, services, provider, sim):
    order = sent(customer, services["default"])
    Order.objects.filter(pk=order.pk).update(upstream_order_id="999")
    sync(provider)
    order.refresh_from_db()
    assert (order.status, order.last_error) == ("sent", "Status: Incorrect order ID")


@pytest.mark.parametrize("knobs", [{"html_rate": 1}, {"http_5xx_rate": 1}, {"error_rate": 1}])
def test_it_survives_a_failing_provider(customer, services, provider, sim, knobs):
    order = sent(customer, services["default"])
    sim.state.set_knobs(**knobs)
    stats = orders_sync_statuses(provider_id=provider.pk)
    order.refresh_from_db()
    assert (stats.failed_calls, order.status, order.last_polled_at) == (1, "sent", None)


def test_it_polls_in_batches_of_100_with_constant_queries(customer, services, provider, sim):
    Provider.objects.filter(pk=provider.pk).update(exchange_rate=Decimal("2"))
    open_orders(customer, services["default"], sim, 150)
    sim.state.reset_counts()
    sim.state.advance(50)
    with CaptureQueriesContext(connection) as small:
        stats = orders_sync_statuses(provider_id=provider.pk)
    assert (stats.calls, sim.state.counts["status"], stats.changed) == (2, 2, 150)
    first = Order.objects.order_by("pk").first()
    assert first.cost == Decimal("0.02000")  # 0.01 upstream × 2
    sim.state.finish_all()
    with CaptureQueriesContext(connection) as again:
        orders_sync_statuses(provider_id=provider.pk, now=timezone.now())
    # Per batch on PostgreSQL: asynchronous commit, lock the rows, one UPDATE writing every
    # polled column and every move (SQLite: a bulk update, then one move per (from, to) pair);
    # the same count however many orders.
    assert len(small) == len(again)
    # SQLite's bound-variable limit splits a 100-row bulk UPDATE in two: still per batch.
    limit = 13 if connection.vendor == "postgresql" else 15
    assert len(small) <= limit, "\n".join(q["sql"][:150] for q in small.captured_queries)


def test_it_polls_old_orders_less_often(customer, services, provider, sim):
    order = sent(customer, services["default"])
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(
        created_at=now - dt.timedelta(days=2), last_polled_at=now - dt.timedelta(minutes=10)
    )
    assert orders_sync_statuses(provider_id=provider.pk, now=now).polled == 0
    later = now + dt.timedelta(minutes=25)
    assert orders_sync_statuses(provider_id=provider.pk, now=later).polled == 1


def test_it_does_not_run_two_syncs_of_a_provider_at_once(customer, services, provider, sim):
    sent(customer, services["default"])
    with mock.patch("django.core.cache.cache.add", return_value=False):
        assert orders_sync_statuses(provider_id=provider.pk).calls == 0
