"""Customer cancels: a queued order is canceled here; a sent one is forwarded upstream."""

from __future__ import annotations

import logging

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from console.services.notify import Kind, notify
from orders.errors import CancelError
from orders.models import Order
from orders.services.refunds import order_refund
from orders.states import POLLABLE, UPSTREAM_CANCELABLE, ReviewReason, order_move
from panel.smmapi import ItemError, NotDelivered, Rejected, RejectReason, UnknownOutcome
from panel.smmapi.protocol import Error, ServiceType

logger = logging.getLogger(__name__)

SUBSCRIPTIONS = ServiceType.SUBSCRIPTIONS.value


def cancel_request(*, user: User, order_id: int) -> Order:
    """Cancel the user's order, or ask the provider to. Raises CancelError.

    A queued order has not reached the provider: it is canceled and refunded at once (the
    conditional UPDATE loses cleanly to a worker that claimed it meanwhile). An order of a
    cancelable service at the provider gets ``cancel_status=requested`` and a forward task; one
    being sent right now gets the request recorded, and forwarding sends it once the provider
    has answered with the order's id.
    """
    order = Order.objects.select_related("service").filter(pk=order_id, user=user).first()
    if order is None:
        raise CancelError("This order does not exist.", api_error=Error.INCORRECT_ORDER)

    if order.status == Order.Status.QUEUED:
        with transaction.atomic():
            canceled = order_move(
                order_id=order.pk,
                expect=Order.Status.QUEUED,
                to=Order.Status.CANCELED,
                finished_at=timezone.now(),
                customer_message="Canceled at your request before it was sent.",
            )
            if canceled:
                order.refresh_from_db()
                order_refund(order=order, amount=order.charge, reason=f"Order {order.pk} canceled")
                order.refresh_from_db()
                return order
        order.refresh_from_db()

    if not order.service.cancel or order.status not in UPSTREAM_CANCELABLE:
        raise CancelError("This order can't be canceled.", api_error=Error.CANNOT_CANCEL)
    with transaction.atomic():
        requested = Order.objects.filter(
            pk=order.pk,
            status__in=UPSTREAM_CANCELABLE,
            cancel_status__in=(Order.CancelStatus.NONE, Order.CancelStatus.REJECTED),
        ).update(cancel_status=Order.CancelStatus.REQUESTED, updated_at=timezone.now())
        if requested != 1:
            raise CancelError(
                "A cancel was already requested for this order.", api_error=Error.CANNOT_CANCEL
            )
        # Still being sent: forwarding enqueues the cancel once the upstream id is recorded
        # (orders.services.forwarding.order_record_sent), and the sweeper if that message is lost.
        transaction.on_commit(lambda: enqueue_cancel(order.pk))
    order.refresh_from_db()
    return order


def enqueue_cancel(order_id: int) -> None:
    from orders import tasks

    try:
        tasks.forward_cancel.delay(order_id)
    except Exception:
        logger.exception("Could not enqueue the cancel of order %s; the sweeper will", order_id)


def order_forward_cancel(*, order_id: int) -> str:
    """Send a requested cancel upstream; returns the cancel status it ended in.

    Re-sending a cancel is harmless (the provider answers "can't be canceled" the second
    time), so an unknown outcome is simply left to the status sync to reveal.
    """
    from orders.services.forwarding import client_for

    # Only once the provider knows the order: a cancel asked while it was being sent waits.
    claimed = (
        Order.objects.filter(
            pk=order_id, cancel_status=Order.CancelStatus.REQUESTED, status__in=POLLABLE
        )
        .exclude(upstream_order_id="")
        .update(cancel_status=Order.CancelStatus.SENT, updated_at=timezone.now())
    )
    if claimed != 1:
        return ""
    order = Order.objects.select_related("provider").get(pk=order_id)
    try:
        with client_for(order.provider) as client:
            answer = client.cancel([order.upstream_order_id]).get(order.upstream_order_id)
    except NotDelivered as exc:
        return _cancel_later(order_id, exc.message)
    except Rejected as exc:
        if exc.reason is RejectReason.RATE_LIMITED:
            return _cancel_later(order_id, exc.message)
        return _cancel_rejected(order_id, exc.message)
    except UnknownOutcome as exc:
        logger.warning("Cancel of order %s: unknown outcome (%s)", order_id, exc.message)
        _hold_unbilled(order_id, f"The outcome of its cancel is unknown: {exc.message}")
        return Order.CancelStatus.SENT
    if isinstance(answer, ItemError):
        if answer.reason is RejectReason.RATE_LIMITED:
            return _cancel_later(order_id, answer.message)
        return _cancel_rejected(order_id, answer.message)
    if answer is None:
        return _cancel_rejected(order_id, "The provider did not answer for this order.")
    return Order.CancelStatus.SENT


def _cancel_later(order_id: int, message: str) -> str:
    """Not sent, or refused for now (HTTP 429): requested again; the sweeper re-enqueues it."""
    Order.objects.filter(pk=order_id, cancel_status=Order.CancelStatus.SENT).update(
        cancel_status=Order.CancelStatus.REQUESTED,
        last_error=f"Cancel: {message}"[:2000],
        updated_at=timezone.now(),
    )
    return Order.CancelStatus.REQUESTED


def _cancel_rejected(order_id: int, message: str) -> str:
    Order.objects.filter(pk=order_id, cancel_status=Order.CancelStatus.SENT).update(
        cancel_status=Order.CancelStatus.REJECTED,
        last_error=f"Cancel refused: {message}"[:2000],
        customer_message="The provider refused to cancel this order.",
        updated_at=timezone.now(),
    )
    _hold_unbilled(order_id, f"The provider refused its cancel: {message}")
    return Order.CancelStatus.REJECTED


def _hold_unbilled(order_id: int, why: str) -> None:
    """An unlimited subscription we paused because the balance ran out, whose cancel did not
    surely happen: the provider may keep delivering posts nobody pays for. Hold it for staff
    (status sync keeps charging what the balance allows and counts the rest as owed)."""
    order = (
        Order.objects.filter(pk=order_id, status=Order.Status.PAUSED, type=SUBSCRIPTIONS)
        .only("pk", "type", "fields")
        .first()
    )
    if order is None or not order.unlimited_posts:
        return
    held = order_move(
        order_id=order_id,
        expect=Order.Status.PAUSED,
        to=Order.Status.NEEDS_REVIEW,
        review_reason=ReviewReason.UNBILLED_POSTS,
        last_error=f"Unlimited subscription out of balance. {why}"[:2000],
    )
    if held:
        _alert_unbilled_posts(order_id, why)


def _alert_unbilled_posts(order_id: int, why: str) -> None:
    subject = f"Order {order_id}: subscription out of balance may keep delivering"
    message = (
        f"Order {order_id} is an unlimited subscription whose customer's balance ran out. "
        f"{why}\n\nThe provider may keep delivering posts nobody pays for: cancel it at the "
        "provider. Posts beyond the balance are shown on the order as owed."
    )
    logger.error(subject)
    notify(
        kind=Kind.NEEDS_REVIEW,
        subject_key=f"order:{order_id}",
        title=subject,
        body=message,
        link=reverse("admin:orders_order_change", args=[order_id]),
    )
