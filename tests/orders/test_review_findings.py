"""Correctness review: stale workers, rate limits, subscription money and ledger chains."""

from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.db.models import F
from django.utils import timezone

from accounts.models import LedgerEntry
from accounts.selectors import ledger_discrepancies
from catalog.models import Service
from orders import tasks
from orders.models import Order, Refill
from orders.services import (
    ReviewError,
    cancel_request,
    order_cancel_and_refund,
    order_forward,
    order_forward_cancel,
    order_place,
    orders_sync_statuses,
    refill_forward,
    refill_request,
)
from orders.services.forwarding import _sent
from orders.services.refunds import order_refund
from panel.smmapi import NotDelivered, Rejected, SMMClient
from panel.smmapi.parsing import order_item
from simulator import Simulator
from tests.conftest import fund
from tests.factories import UserFactory
from tests.orders.test_status_sync import sent

real_add = SMMClient.add


def place(user, service, link="https://x.com/a", **fields) -> Order:
    fields = {"link": link, "quantity": "1000", **fields}
    return order_place(user=user, service_id=service.pk, fields=fields, source="web")


def subscribe(user, service, **fields) -> Order:
    fields = {"username": "someone", "min": "10", "max": "100", **fields}
    return order_place(user=user, service_id=service.pk, fields=fields, source="web")


def resent_meanwhile(order: Order) -> None:
    """What the sweeper + a staff resend + a second worker's claim do to the row."""
    Order.objects.filter(pk=order.pk).update(status="sending", attempts=F("attempts") + 1)


# --- a stale worker (its call outlived the sweeper's timeout) never decides for a newer one --


@pytest.mark.parametrize(
    ("failure", "status"),
    [(Rejected("Link is private"), "failed"), (NotDelivered("refused"), "queued")],
    ids=["rejected", "not-delivered"],
)
def test_it_ignores_a_stale_workers_failure_while_a_newer_attempt_is_sending(
    customer, services, sim, failure, status
):
    order = place(customer, services["default"])

    def stale_add(self, service_id, fields):
        resent_meanwhile(order)
        raise failure

    with (
        mock.patch("panel.smmapi.SMMClient.add", stale_add),
        mock.patch("orders.tasks.forward_order.apply_async") as later,
    ):
        assert order_forward(order_id=order.pk) == ""
    order.refresh_from_db()
    # The newer attempt owns the row: no refund of an order that may be created upstream now,
    # and no third send.
    assert (order.status, order.attempts, order.refunded) == ("sending", 2, 0)
    later.assert_not_called()
    assert not LedgerEntry.objects.filter(order=order, kind="refund").exists()


def test_it_records_a_stale_workers_success_and_alerts_on_the_duplicate(
    customer, services, sim, settings
):
    settings.ADMINS = [("Admin", "admin@example.com")]
    order = place(customer, services["default"])

    def late_success(self, service_id, fields):
        resent_meanwhile(order)
        return real_add(self, service_id, fields)

    with mock.patch("panel.smmapi.SMMClient.add", late_success):
        assert order_forward(order_id=order.pk) == "sent"
    first = sim.state.orders()[0].id
    order.refresh_from_db()
    assert (order.status, order.upstream_order_id) == ("sent", str(first))

    # The newer attempt's answer arrives too: the provider now holds two orders.
    assert _sent(order, "99999", attempt=order.attempts) == "sent"
    order.refresh_from_db()
    assert order.upstream_order_id == str(first)
    assert len(mail.outbox) == 1
    assert f"Order {order.pk}" in mail.outbox[0].subject
    assert "99999" in mail.outbox[0].body


def test_it_alerts_when_an_order_canceled_by_staff_turns_out_to_be_sent(
    customer, services, sim, settings, admin_user
):
    settings.ADMINS = [("Admin", "admin@example.com")]
    order = place(customer, services["default"])

    def slow_add(self, service_id, fields):
        Order.objects.filter(pk=order.pk).update(status="needs_review")  # the sweeper gave up
        order_cancel_and_refund(order_id=order.pk, staff=admin_user)
        return real_add(self, service_id, fields)

    with mock.patch("panel.smmapi.SMMClient.add", slow_add):
        order_forward(order_id=order.pk)
    order.refresh_from_db()
    upstream = sim.state.orders()[0].id
    assert (order.status, order.refunded) == ("canceled", Decimal("1.50000"))
    assert len(mail.outbox) == 1
    assert str(upstream) in mail.outbox[0].body


def test_it_gives_up_on_a_forward_before_the_sweeper_does(settings):
    # Why: a call still running when the sweeper moves the order to needs review could race a
    # staff "resend". The task's hard limit kills the worker first.
    for task in (tasks.forward_order, tasks.forward_refill):
        assert task.soft_time_limit < task.time_limit < settings.ORDERS_SENDING_TIMEOUT_SECONDS
        assert not getattr(task, "acks_late", False)


def test_it_needs_review_when_the_soft_time_limit_interrupts_the_call(customer, services):
    from celery.exceptions import SoftTimeLimitExceeded

    order = place(customer, services["default"])
    with mock.patch("panel.smmapi.SMMClient.add", side_effect=SoftTimeLimitExceeded()):
        assert order_forward(order_id=order.pk) == "needs_review"
    order.refresh_from_db()
    assert (order.status, order.refunded) == ("needs_review", 0)


# --- HTTP 429: refused for now, retried later, never failed ------------------------------------


def test_it_retries_a_rate_limited_add_later_without_a_refund(customer, services, sim):
    sim.state.set_knobs(rate_limit_rate=1, actions=["add"])
    order = place(customer, services["default"])
    with mock.patch("orders.tasks.forward_order.apply_async") as later:
        assert order_forward(order_id=order.pk) == "queued"
    later.assert_called_once()
    order.refresh_from_db()
    assert (order.status, order.refunded, order.last_error) == ("queued", 0, "Too many requests")
    assert order.next_attempt_at > timezone.now()
    assert sim.state.orders() == []

    sim.state.set_knobs(rate_limit_rate=0)
    Order.objects.filter(pk=order.pk).update(next_attempt_at=timezone.now())
    assert order_forward(order_id=order.pk) == "sent"
    assert sim.state.counts["add"] == 2


def test_it_retries_a_rate_limited_refill_later(customer, services, provider, sim):
    order = sent(customer, services["default"])
    sim.state.finish_all()
    orders_sync_statuses(provider_id=provider.pk)
    refill = refill_request(user=customer, order_id=order.pk)
    sim.state.set_knobs(rate_limit_rate=1, actions=["refill"])
    assert refill_forward(refill_id=refill.pk) == "queued"
    refill.refresh_from_db()
    assert (refill.status, refill.last_error) == (Refill.Status.QUEUED, "Too many requests")
    assert refill.next_attempt_at > timezone.now()


def test_it_retries_a_rate_limited_cancel_later(customer, services, sim):
    order = sent(customer, services["default"])
    cancel_request(user=customer, order_id=order.pk)
    sim.state.set_knobs(rate_limit_rate=1, actions=["cancel"])
    assert order_forward_cancel(order_id=order.pk) == "requested"
    order.refresh_from_db()
    assert (order.cancel_status, order.last_error) == ("requested", "Cancel: Too many requests")


# --- subscriptions --------------------------------------------------------------------------


def test_it_charges_an_unlimited_subscription_for_the_posts_the_provider_reports(
    customer, services, provider, sim: Simulator
):
    Service.objects.filter(pk=services["subscription"].pk).update(allow_unlimited_posts=True)
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
    Service.objects.filter(pk=services["subscription"].pk).update(allow_unlimited_posts=True)
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
    Service.objects.filter(pk=services["subscription"].pk).update(allow_unlimited_posts=True)
    subs = [subscribe(customer, services["subscription"], username=f"u{i}") for i in range(5)]
    for sub in subs:
        order_forward(order_id=sub.pk)
    sim.state.advance(50)
    with django_assert_max_num_queries(12):
        orders_sync_statuses(provider_id=provider.pk)
