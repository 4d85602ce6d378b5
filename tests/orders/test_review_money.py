"""Money under stress: subscription charges and refunds, batched refunds, races, admin I/O."""

import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry
from accounts.selectors import ledger_discrepancies
from catalog.models import Service
from orders.models import Order
from orders.services import (
    ReviewError,
    cancel_request,
    order_cancel_and_refund,
    order_forward,
    order_place,
    orders_sync_statuses,
)
from orders.services.refunds import order_refund
from panel.smmapi.parsing import order_item
from simulator import Simulator
from tests.conftest import fund
from tests.factories import UserFactory
from tests.orders.test_status_sync import sent


def place(user, service, link="https://x.com/a", **fields) -> Order:
    fields = {"link": link, "quantity": "1000", **fields}
    return order_place(user=user, service_id=service.pk, fields=fields, source="web")


def subscribe(user, service, **fields) -> Order:
    fields = {"username": "someone", "min": "10", "max": "100", **fields}
    return order_place(user=user, service_id=service.pk, fields=fields, source="web")


# --- subscriptions --------------------------------------------------------------------------


def test_it_charges_an_unlimited_subscription_for_the_posts_the_provider_reports(
    customer, services, provider, sim: Simulator
):
    Service.objects.filter(pk=services["subscription"].pk).update(
        allow_unlimited_posts=True, cancel=True
    )
    order = subscribe(customer, services["subscription"])
    assert order_forward(order_id=order.pk) == "sent"
    order.refresh_from_db()
    upstream = int(order.upstream_order_id)
    sim.state.advance(50)
    sim.state.set_order(upstream, posts=3)
    orders_sync_statuses(provider_id=provider.pk)
    order.refresh_from_db()
    customer.refresh_from_db()
    # A post costs max (100) units at 3.00 per 1000 = 0.30.
    assert (order.status, order.posts_delivered, order.charge) == ("active", 3, Decimal("0.9"))
    assert customer.balance == Decimal("99.10000")

    orders_sync_statuses(provider_id=provider.pk)  # the same answer again charges nothing
    sim.state.set_order(upstream, status="Canceled", posts=5)
    orders_sync_statuses(provider_id=provider.pk)
    order.refresh_from_db()
    customer.refresh_from_db()
    assert (order.status, order.posts_delivered, order.charge, order.refunded) == (
        "canceled",
        5,
        Decimal("1.5"),
        0,
    )
    assert customer.balance == Decimal("98.50000")
    charges = LedgerEntry.objects.filter(order=order).order_by("id")
    assert [e.amount for e in charges] == [Decimal("-0.9"), Decimal("-0.6")]
    assert list(ledger_discrepancies()) == []


@pytest.mark.parametrize(
    ("remains", "posts", "refund"),
    [(2, None, "0.60000"), (None, 3, "0.60000"), (None, None, "1.50000"), (5, 0, "1.50000")],
    ids=["remains", "posts", "nothing-known", "nothing-delivered"],
)
def test_it_refunds_only_undelivered_posts_of_a_canceled_subscription(
    customer, services, provider, sim, remains, posts, refund
):
    order = subscribe(customer, services["subscription"], posts="5")  # 1.50
    order_forward(order_id=order.pk)
    order.refresh_from_db()
    answer = {"charge": "1.00", "status": "Canceled", "remains": remains, "posts": posts}
    with mock.patch(
        "panel.smmapi.SMMClient.statuses",
        return_value={order.upstream_order_id: order_item(answer)},
    ):
        orders_sync_statuses(provider_id=provider.pk)
    order.refresh_from_db()
    assert (order.status, order.refunded) == ("canceled", Decimal(refund))


def test_it_refunds_an_expired_subscription_from_its_posts_when_remains_are_missing(
    customer, services, provider, sim
):
    order = subscribe(customer, services["subscription"], posts="5")
    order_forward(order_id=order.pk)
    order.refresh_from_db()
    answer = order_item({"status": "Expired", "remains": "", "posts": "4"})
    with mock.patch(
        "panel.smmapi.SMMClient.statuses", return_value={order.upstream_order_id: answer}
    ):
        orders_sync_statuses(provider_id=provider.pk)
    order.refresh_from_db()
    assert (order.status, order.refunded) == ("expired", Decimal("0.30000"))


# --- ledger chains after batched refunds ------------------------------------------------------


def test_it_keeps_the_ledger_chain_through_a_batch_of_refunds(
    requires_postgres, customer, services, provider, sim
):
    other = UserFactory()
    fund(other, "50.00")
    Service.objects.filter(pk=services["subscription"].pk).update(
        allow_unlimited_posts=True, cancel=True
    )
    mine = [sent(customer, services["default"], link=f"https://x.com/{i}") for i in range(3)]
    theirs = [sent(other, services["default"], link=f"https://y.com/{i}") for i in range(2)]
    unlimited = subscribe(customer, services["subscription"])
    order_forward(order_id=unlimited.pk)
    unlimited.refresh_from_db()
    sim.state.advance(50)
    sim.state.set_order(int(unlimited.upstream_order_id), posts=2)
    for order, status, remains in [
        (mine[0], "Partial", 400),
        (mine[1], "Canceled", None),
        (mine[2], "Completed", None),
        (theirs[0], "Partial", 1),
        (theirs[1], "Canceled", None),
    ]:
        sim.state.set_order(int(order.upstream_order_id), status=status, remains=remains)
    stats = orders_sync_statuses(provider_id=provider.pk)
    assert stats.refunds == 4
    assert list(ledger_discrepancies()) == []
    refunds = dict(LedgerEntry.objects.filter(kind="refund").values_list("order_id", "amount"))
    assert refunds == {
        mine[0].pk: Decimal("0.60000"),
        mine[1].pk: Decimal("1.50000"),
        theirs[0].pk: Decimal("0.00150"),
        theirs[1].pk: Decimal("1.50000"),
    }


def test_it_refunds_each_order_once_when_the_batch_meets_an_existing_refund(
    customer, services, provider, sim
):
    first = sent(customer, services["default"], link="https://x.com/1")
    second = sent(customer, services["default"], link="https://x.com/2")
    # A refund already on record for the first (as if written by another path).
    order_refund(order=first, amount=Decimal("0.10"), reason="earlier")
    Order.objects.filter(pk=first.pk).update(refunded=Decimal("0.10"))
    for order in (first, second):
        sim.state.set_order(int(order.upstream_order_id), status="Canceled")
    orders_sync_statuses(provider_id=provider.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.refunded) == ("canceled", Decimal("0.10000"))
    assert (second.status, second.refunded) == ("canceled", Decimal("1.50000"))
    assert LedgerEntry.objects.filter(kind="refund").count() == 2
    assert list(ledger_discrepancies()) == []


def test_it_never_refunds_a_finished_order_twice_when_staff_acts_after_the_sync(
    customer, services, provider, sim, admin_user
):
    order = sent(customer, services["default"])
    sim.state.set_order(int(order.upstream_order_id), status="Partial", remains=500)
    orders_sync_statuses(provider_id=provider.pk)
    orders_sync_statuses(provider_id=provider.pk)
    with pytest.raises(ReviewError):
        order_cancel_and_refund(order_id=order.pk, staff=admin_user)
    order.refresh_from_db()
    assert (order.status, order.refunded) == ("partial", Decimal("0.75000"))


def test_it_polls_statuses_without_a_query_per_unlimited_subscription_without_new_posts(
    customer, services, provider, sim, django_assert_max_num_queries
):
    Service.objects.filter(pk=services["subscription"].pk).update(
        allow_unlimited_posts=True, cancel=True
    )
    subs = [subscribe(customer, services["subscription"], username=f"u{i}") for i in range(5)]
    for sub in subs:
        order_forward(order_id=sub.pk)
    sim.state.advance(50)
    with django_assert_max_num_queries(12):
        orders_sync_statuses(provider_id=provider.pk)


# --- races on real PostgreSQL ---------------------------------------------------------------


def _in_threads(count: int, work) -> None:
    barrier = threading.Barrier(count)

    def run() -> None:
        try:
            barrier.wait()
            work()
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.django_db(transaction=True)
def test_it_refunds_once_when_status_syncs_overlap(requires_postgres, services, provider, sim):
    user = UserFactory()
    fund(user, "20.00")
    orders = [sent(user, services["default"], link=f"https://x.com/{i}") for i in range(5)]
    for order in orders:
        sim.state.set_order(int(order.upstream_order_id), status="Partial", remains=500)
    # Even without the Redis lock (evicted, or a second beat), the row locks decide.
    with mock.patch("orders.services.status_sync.cache.add", return_value=True):
        _in_threads(4, lambda: orders_sync_statuses(provider_id=provider.pk))
    assert LedgerEntry.objects.filter(kind="refund").count() == 5
    assert set(Order.objects.values_list("status", "refunded")) == {("partial", Decimal("0.75000"))}
    user.refresh_from_db()
    assert user.balance == Decimal("20.00") - 5 * Decimal("1.50") + 5 * Decimal("0.75")
    assert list(ledger_discrepancies()) == []


@pytest.mark.django_db(transaction=True)
def test_it_cancels_a_queued_order_once_when_the_customer_and_staff_race_a_worker(
    requires_postgres, services, sim, admin_user
):
    user = UserFactory()
    fund(user, "10.00")
    order = place(user, services["default"])
    outcomes: list[str] = []

    def customer_cancel() -> None:
        try:
            outcomes.append(cancel_request(user=user, order_id=order.pk).status)
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    def staff_cancel() -> None:
        try:
            outcomes.append(order_cancel_and_refund(order_id=order.pk, staff=admin_user).status)
        except ReviewError:
            outcomes.append("refused")

    def worker() -> None:
        outcomes.append(order_forward(order_id=order.pk) or "lost")

    jobs = [customer_cancel, staff_cancel, worker]
    index = iter(range(3))
    _in_threads(3, lambda: jobs[next(index)]())
    order.refresh_from_db()
    refunds = LedgerEntry.objects.filter(order=order, kind="refund").count()
    if order.status == Order.Status.SENT:
        assert (refunds, order.refunded, sim.state.counts["add"]) == (0, 0, 1)
    else:
        assert order.status == Order.Status.CANCELED
        assert (refunds, order.refunded, sim.state.counts["add"]) == (1, Decimal("1.50"), 0)
    assert list(ledger_discrepancies()) == []


def test_it_asks_the_provider_for_its_balance_only_after_the_admin_form_commits(
    admin_client, provider, sim, django_capture_on_commit_callbacks
):
    # The admin wraps a change form in a transaction; a provider call there would hold it open.
    from orders.models import ProviderReconciliation

    report = ProviderReconciliation.objects.create(provider=provider, day=timezone.now().date())
    url = reverse("admin:orders_providerreconciliation_change", args=[report.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(url, {"top_ups": "5.00"})
        assert response.status_code == 302
        assert sim.state.counts["balance"] == 0
    for callback in callbacks:
        callback()
    assert sim.state.counts["balance"] == 1
    report.refresh_from_db()
    assert (report.top_ups, report.closing_balance) == (Decimal("5.00000"), Decimal("1000.00"))
