"""Forwarding under stress: stale workers after a staff resend, time limits, HTTP 429."""

from decimal import Decimal
from unittest import mock

import pytest
from django.db.models import F
from django.utils import timezone

from accounts.models import LedgerEntry
from orders import tasks
from orders.models import Order, Refill
from orders.services import (
    cancel_request,
    order_cancel_and_refund,
    order_forward,
    order_forward_cancel,
    order_place,
    orders_sync_statuses,
    refill_forward,
    refill_request,
)
from orders.services.forwarding import order_record_sent
from panel.smmapi import NotDelivered, Rejected, SMMClient, UnknownOutcome
from tests.console.helpers import sent_mail
from tests.orders.test_status_sync import sent

real_add = SMMClient.add


def place(user, service, link="https://x.com/a", **fields) -> Order:
    fields = {"link": link, "quantity": "1000", **fields}
    return order_place(user=user, service_id=service.pk, fields=fields, source="web")


def resent_meanwhile(order: Order) -> None:
    """What the sweeper + a staff resend + a second worker's claim do to the row."""
    Order.objects.filter(pk=order.pk).update(status="sending", attempts=F("attempts") + 1)


# --- a stale worker (its call outlived the sweeper's timeout) never decides for a newer one --


@pytest.mark.parametrize(
    "failure",
    [
        Rejected("Link is private"),
        Rejected("Not enough funds on balance"),
        NotDelivered("refused"),
        UnknownOutcome("read timeout"),
    ],
    ids=["rejected", "no-funds", "not-delivered", "unknown"],
)
def test_it_ignores_a_stale_workers_failure_while_a_newer_attempt_is_sending(
    customer, services, sim, failure
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
    assert order_record_sent(order, "99999", attempt=order.attempts) == "sent"
    order.refresh_from_db()
    assert order.upstream_order_id == str(first)
    outbox = sent_mail()
    assert len(outbox) == 1
    assert f"Order {order.pk}" in outbox[0].subject
    assert "99999" in outbox[0].body


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
    outbox = sent_mail()
    assert len(outbox) == 1
    assert str(upstream) in outbox[0].body


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
