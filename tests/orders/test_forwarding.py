import datetime as dt
import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from accounts.models import LedgerEntry, User
from catalog.models import Provider, Service
from orders.models import Order
from orders.services import order_forward, order_place, orders_sweep
from simulator import Simulator
from tests.conftest import fund
from tests.console.helpers import sent_mail
from tests.factories import UserFactory


def place(user: User, service: Service, link: str = "https://x.com/a", **fields: str) -> Order:
    fields = {"link": link, "quantity": "1000", **fields}
    return order_place(user=user, service_id=service.pk, fields=fields, source="web")


def test_it_sends_a_queued_order(customer, services, sim: Simulator):
    order = place(customer, services["default"])
    assert order_forward(order_id=order.pk) == "sent"
    order.refresh_from_db()
    assert order.status == Order.Status.SENT
    assert order.upstream_order_id == str(sim.state.orders()[0].id)
    assert (order.attempts, order.sending_since, order.last_error) == (1, None, "")
    assert order.sent_at is not None
    assert sim.state.counts["add"] == 1
    upstream = sim.state.orders()[0]
    assert (upstream.service_id, upstream.link, upstream.quantity) == (1, "https://x.com/a", 1000)


def test_it_sends_drip_feed_fields(customer, services, sim: Simulator):
    order = place(customer, services["default"], quantity="100", runs="3", interval="10")
    order_forward(order_id=order.pk)
    upstream = sim.state.orders()[0]
    assert (upstream.quantity, upstream.runs, upstream.interval) == (300, 3, 10)


def test_it_sends_a_queued_order_once_when_the_task_runs_twice(customer, services, sim):
    order = place(customer, services["default"])
    order_forward(order_id=order.pk)
    assert order_forward(order_id=order.pk) == ""
    assert sim.state.counts["add"] == 1


def test_it_wakes_the_providers_forwarder_once_per_burst(
    customer, services, django_capture_on_commit_callbacks
):
    with (
        mock.patch("orders.tasks.forward_provider.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        order = place(customer, services["default"])
        place(customer, services["default"], link="https://instagram.com/p/another")
    if isinstance(caches["default"], RedisCache):
        # The second order found the provider's wake flag up: one message for both.
        assert delay.call_args_list == [mock.call(order.provider_id)]
    else:  # no shared flag without Redis (development): a message per order
        assert delay.call_args_list == [mock.call(order.provider_id)] * 2


def test_it_keeps_the_order_when_the_broker_is_down(
    customer, services, sim, django_capture_on_commit_callbacks
):
    down = mock.patch("orders.tasks.forward_provider.delay", side_effect=ConnectionError("down"))
    with down, django_capture_on_commit_callbacks(execute=True):
        order = place(customer, services["default"])
    order.refresh_from_db()
    assert order.status == Order.Status.QUEUED
    # The sweeper finds it once its message is presumed lost.
    with mock.patch("orders.tasks.forward_order.delay") as delay:
        stats = orders_sweep(now=timezone.now() + dt.timedelta(minutes=1))
    delay.assert_called_once_with(order.pk)
    assert stats.requeued == 1


def test_it_requeues_with_backoff_when_not_delivered(customer, services):
    Provider.objects.update(api_url="http://127.0.0.1:9/api/v2")  # nothing listens there
    order = place(customer, services["default"])
    with mock.patch("orders.tasks.forward_order.apply_async") as later:
        assert order_forward(order_id=order.pk) == "queued"
    order.refresh_from_db()
    assert order.status == Order.Status.QUEUED
    assert order.attempts == 1
    assert "not delivered" in order.last_error
    assert order.next_attempt_at > timezone.now()
    later.assert_called_once_with((order.pk,), countdown=5.0)
    # Not due yet: a duplicate message does nothing.
    assert order_forward(order_id=order.pk) == ""
    assert order.charge == Decimal("1.50000")
    assert order.refunded == 0


@pytest.mark.parametrize(
    "knobs",
    [
        {"html_rate": 1},
        {"http_5xx_rate": 1},
        {"http_5xx_rate": 1, "http_5xx_after": True},
        {"invalid_json_rate": 1},
        {"timeout_rate": 1, "timeout_seconds": 1},
    ],
    ids=["html", "5xx-before", "5xx-after", "invalid-json", "read-timeout"],
)
@override_settings(SMMAPI_READ_TIMEOUT=0.2)
def test_it_never_resends_an_unknown_outcome(customer, services, sim, knobs):
    sim.state.set_knobs(**knobs)
    order = place(customer, services["default"])
    assert order_forward(order_id=order.pk) == "needs_review"
    order.refresh_from_db()
    assert order.status == Order.Status.NEEDS_REVIEW
    assert order.last_error.startswith("Unknown outcome of add")
    assert order.refunded == 0
    assert order_forward(order_id=order.pk) == ""
    with mock.patch("orders.tasks.forward_order.delay") as delay:
        orders_sweep(now=timezone.now() + dt.timedelta(hours=1))
    delay.assert_not_called()
    assert sim.state.counts["add"] == 1


def test_it_fails_and_refunds_a_rejected_order_once(customer, services, sim):
    sim.state.set_knobs(error_rate=1, error_text="Link is private", actions=["add"])
    order = place(customer, services["default"])
    assert order_forward(order_id=order.pk) == "failed"
    order.refresh_from_db()
    customer.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert order.last_error == "Link is private"
    assert order.customer_message == (
        "The provider could not accept this order; it was refunded in full."
    )
    assert (order.refunded, customer.balance) == (Decimal("1.50000"), Decimal("100.00000"))
    assert order_forward(order_id=order.pk) == ""
    assert LedgerEntry.objects.filter(order=order, kind="refund").count() == 1


def test_it_pauses_the_provider_on_not_enough_funds(customer, services, sim, settings):
    settings.ADMINS = [("Admin", "admin@example.com")]
    sim.state.set_knobs(funds_rate=1)
    first = place(customer, services["default"], link="https://x.com/1")
    second = place(customer, services["default"], link="https://x.com/2")
    assert order_forward(order_id=first.pk) == "queued"
    first.refresh_from_db()
    provider = Provider.objects.get()
    assert provider.is_paused
    assert provider.paused_reason == "Not enough funds on balance"
    assert (first.status, first.refunded, first.next_attempt_at) == ("queued", 0, None)
    outbox = sent_mail()
    assert len(outbox) == 1
    assert "paused" in outbox[0].subject
    # Nothing more goes to a paused provider.
    assert order_forward(order_id=second.pk) == ""
    assert sim.state.counts["add"] == 1

    # Funds are back: the sweeper resumes the provider and re-enqueues both orders.
    sim.state.set_knobs(funds_rate=0)
    with mock.patch("orders.tasks.forward_order.delay") as delay:
        stats = orders_sweep(now=timezone.now() + dt.timedelta(minutes=1))
    assert stats.resumed_providers == 1
    assert sorted(call.args[0] for call in delay.call_args_list) == [first.pk, second.pk]
    assert order_forward(order_id=first.pk) == "sent"
    assert len(sent_mail()) == 1


def test_it_keeps_a_paused_provider_paused_while_funds_are_short(customer, services, sim):
    sim.state.set_knobs(funds_rate=1)
    order = place(customer, services["default"])
    order_forward(order_id=order.pk)
    sim.state.set_knobs(funds_rate=0)
    sim.state.set_balance("0.10")  # the order costs 1.00 upstream
    stats = orders_sweep(now=timezone.now() + dt.timedelta(minutes=1))
    assert (stats.resumed_providers, stats.requeued) == (0, 0)
    assert Provider.objects.get().is_paused


@override_settings(ORDERS_DUPLICATE_LINK_GUARD=False)
def test_it_retries_later_when_the_link_has_an_active_order_upstream(customer, services, sim):
    first = place(customer, services["default"])
    second = place(customer, services["default"])
    order_forward(order_id=first.pk)
    with mock.patch("orders.tasks.forward_order.apply_async"):
        assert order_forward(order_id=second.pk) == "queued"
    second.refresh_from_db()
    assert second.last_error.startswith("You have active order with this link")
    assert second.next_attempt_at > timezone.now() + dt.timedelta(minutes=4)
    assert second.refunded == 0


def test_it_moves_orders_stuck_in_sending_to_needs_review(customer, services, settings):
    order = place(customer, services["default"])
    stuck_since = timezone.now() - dt.timedelta(seconds=settings.ORDERS_SENDING_TIMEOUT_SECONDS + 1)
    Order.objects.filter(pk=order.pk).update(status="sending", sending_since=stuck_since)
    with mock.patch("orders.tasks.forward_order.delay") as delay:
        stats = orders_sweep()
    order.refresh_from_db()
    assert stats.stuck == 1
    assert order.status == Order.Status.NEEDS_REVIEW
    assert order.last_error == "Stuck in sending past the timeout; it may exist upstream."
    delay.assert_not_called()


def test_it_leaves_recent_sending_orders_alone(customer, services):
    order = place(customer, services["default"])
    Order.objects.filter(pk=order.pk).update(status="sending", sending_since=timezone.now())
    assert orders_sweep().stuck == 0


def test_it_records_a_late_answer_after_the_sweeper_gave_up(customer, services, sim):
    order = place(customer, services["default"])
    real_add = __import__("panel.smmapi", fromlist=["SMMClient"]).SMMClient.add

    def slow_add(self, service_id, fields):
        Order.objects.filter(pk=order.pk).update(status="needs_review")
        return real_add(self, service_id, fields)

    with mock.patch("panel.smmapi.SMMClient.add", slow_add):
        assert order_forward(order_id=order.pk) == "sent"
    order.refresh_from_db()
    assert (order.status, order.upstream_order_id) == ("sent", str(sim.state.orders()[0].id))


@pytest.mark.django_db(transaction=True)
def test_it_sends_once_when_two_workers_claim_the_same_order(requires_postgres, services, sim):
    user = UserFactory()
    fund(user, "10.00")
    order = place(user, services["default"])
    sim.state.set_knobs(latency_ms=50)
    barrier = threading.Barrier(4)
    results: list[str] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(order_forward(order_id=order.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["", "", "", "sent"]
    assert sim.state.counts["add"] == 1
