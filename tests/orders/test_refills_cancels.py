import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from orders.errors import CancelError, RefillError
from orders.models import Order, Refill
from orders.services import (
    cancel_request,
    order_forward_cancel,
    orders_sweep,
    orders_sync_statuses,
    refill_forward,
    refill_request,
    refills_sync_statuses,
)
from tests.orders.test_status_sync import sent


@pytest.fixture
def completed(customer, services, provider, sim) -> Order:
    order = sent(customer, services["default"])
    sim.state.finish_all()
    orders_sync_statuses(provider_id=provider.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    return order


def test_it_forwards_a_refill_and_syncs_its_status(
    customer, completed, provider, sim, django_capture_on_commit_callbacks
):
    with (
        mock.patch("orders.tasks.forward_refill.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        refill = refill_request(user=customer, order_id=completed.pk)
    delay.assert_called_once_with(refill.pk)
    assert refill_forward(refill_id=refill.pk) == "pending"
    assert refill_forward(refill_id=refill.pk) == ""  # a duplicate message does nothing
    refill.refresh_from_db()
    upstream = sim.state.refills()[0]
    assert (refill.status, refill.upstream_refill_id) == ("pending", str(upstream.id))
    assert sim.state.counts["refill"] == 1
    sim.state.advance(100)
    assert refills_sync_statuses(provider_id=provider.pk) == 1
    refill.refresh_from_db()
    assert refill.status == "completed"


def test_it_allows_one_refill_in_flight(customer, completed):
    refill_request(user=customer, order_id=completed.pk)
    with pytest.raises(RefillError) as exc:
        refill_request(user=customer, order_id=completed.pk)
    assert exc.value.api_error == "Refill is not available for this order"
    assert Refill.objects.count() == 1


def test_it_refuses_refills_of_other_users_orders(other_user, completed):
    with pytest.raises(RefillError) as exc:
        refill_request(user=other_user, order_id=completed.pk)
    assert exc.value.api_error == "Incorrect order ID"


def test_it_refuses_refills_outside_the_window(customer, completed):
    Order.objects.filter(pk=completed.pk).update(finished_at=timezone.now() - dt.timedelta(days=31))
    with pytest.raises(RefillError) as exc:
        refill_request(user=customer, order_id=completed.pk)
    assert exc.value.api_error == "Refill is not available for this order"


def test_it_refuses_refills_of_unfinished_orders_and_services_without_refill(customer, services):
    order = sent(customer, services["default"])
    with pytest.raises(RefillError):
        refill_request(user=customer, order_id=order.pk)
    other = sent(customer, services["norefill"])
    Order.objects.filter(pk=other.pk).update(status="completed")
    with pytest.raises(RefillError):
        refill_request(user=customer, order_id=other.pk)


def test_it_records_a_rejected_refill(customer, completed, sim):
    refill = refill_request(user=customer, order_id=completed.pk)
    sim.state.set_knobs(error_rate=1, error_text="Refill is not available for this order")
    assert refill_forward(refill_id=refill.pk) == "rejected"
    refill.refresh_from_db()
    assert refill.last_error == "Refill is not available for this order"
    # A new one may be requested once that one is closed.
    sim.state.set_knobs(error_rate=0)
    refill_request(user=customer, order_id=completed.pk)


def test_it_retries_an_undelivered_refill_and_reviews_an_unknown_one(customer, completed, sim):
    refill = refill_request(user=customer, order_id=completed.pk)
    sim.state.set_knobs(html_rate=1)
    assert refill_forward(refill_id=refill.pk) == "needs_review"
    assert sim.state.counts["refill"] == 1


def test_it_cancels_a_queued_order_at_once_with_a_full_refund(customer, services, sim):
    from orders.services import order_place

    order = order_place(
        user=customer,
        service_id=services["norefill"].pk,
        fields={"link": "https://x.com/q", "quantity": "100"},
        source="web",
    )
    canceled = cancel_request(user=customer, order_id=order.pk)
    assert (canceled.status, canceled.refunded) == ("canceled", Decimal("0.15000"))
    customer.refresh_from_db()
    assert customer.balance == Decimal("100.00000")
    from orders.services import order_forward

    assert order_forward(order_id=order.pk) == ""
    assert sim.state.counts["add"] == 0


def test_it_forwards_a_cancel_and_refunds_when_upstream_cancels(
    customer, services, provider, sim, django_capture_on_commit_callbacks
):
    order = sent(customer, services["default"])
    with (
        mock.patch("orders.tasks.forward_cancel.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        requested = cancel_request(user=customer, order_id=order.pk)
    delay.assert_called_once_with(order.pk)
    assert requested.cancel_status == "requested"
    with pytest.raises(CancelError):
        cancel_request(user=customer, order_id=order.pk)
    assert order_forward_cancel(order_id=order.pk) == "sent"
    assert order_forward_cancel(order_id=order.pk) == ""
    orders_sync_statuses(provider_id=provider.pk)
    order.refresh_from_db()
    assert (order.status, order.refunded) == ("canceled", Decimal("1.50000"))


def test_it_records_a_refused_cancel(customer, services, sim):
    order = sent(customer, services["default"])
    cancel_request(user=customer, order_id=order.pk)
    sim.state.set_order(int(order.upstream_order_id), status="Completed")
    assert order_forward_cancel(order_id=order.pk) == "rejected"
    order.refresh_from_db()
    assert order.last_error == "Cancel refused: Order can't be canceled"
    assert order.customer_message == "The provider refused to cancel this order."


def test_it_retries_an_undelivered_cancel_through_the_sweeper(customer, services, sim):
    order = sent(customer, services["default"])
    cancel_request(user=customer, order_id=order.pk)
    with mock.patch(
        "panel.smmapi.SMMClient.cancel",
        side_effect=__import__("panel.smmapi", fromlist=["NotDelivered"]).NotDelivered("down"),
    ):
        assert order_forward_cancel(order_id=order.pk) == "requested"
    with mock.patch("orders.tasks.forward_cancel.delay") as delay:
        orders_sweep(now=timezone.now() + dt.timedelta(minutes=1))
    delay.assert_called_once_with(order.pk)


def test_it_refuses_cancels_it_cannot_do(customer, other_user, services):
    order = sent(customer, services["norefill"])  # service without cancel
    with pytest.raises(CancelError) as exc:
        cancel_request(user=customer, order_id=order.pk)
    assert exc.value.api_error == "Order can't be canceled"
    with pytest.raises(CancelError) as exc:
        cancel_request(user=other_user, order_id=order.pk)
    assert exc.value.api_error == "Incorrect order ID"


def test_it_keeps_polling_the_other_refills_when_a_panel_refuses_the_batch_for_one_id(
    customer, services, provider, sim
):
    orders = [sent(customer, services["default"], link=f"https://x.com/r{i}") for i in range(4)]
    sim.state.finish_all()
    orders_sync_statuses(provider_id=provider.pk)
    refills = [refill_request(user=customer, order_id=order.pk) for order in orders]
    for refill in refills:
        assert refill_forward(refill_id=refill.pk) == "pending"
    bad = refills[1]
    Refill.objects.filter(pk=bad.pk).update(upstream_refill_id="999999")  # unknown upstream
    sim.state.set_knobs(reject_batch_on_bad_id=True)
    sim.state.advance(100)

    assert refills_sync_statuses(provider_id=provider.pk) == 4

    bad.refresh_from_db()
    assert (bad.status, bad.last_error) == ("pending", "Refill not found")
    assert (
        list(Refill.objects.exclude(pk=bad.pk).order_by("pk").values_list("status", flat=True))
        == ["completed"] * 3
    )
