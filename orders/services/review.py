"""Staff resolutions of orders whose upstream outcome is unknown (status needs_review)."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from orders.errors import OrderError
from orders.models import Order
from orders.services.audit import audit_log
from orders.services.placement import enqueue_forward
from orders.services.refunds import order_refund, refund_for_remains
from orders.states import STAFF_CANCELABLE, ReviewReason, order_move
from panel.money import ZERO
from panel.smmapi.protocol import Error

logger = logging.getLogger(__name__)


class ReviewError(OrderError):
    pass


def _error(message: str) -> ReviewError:
    return ReviewError(message, api_error=Error.INCORRECT_REQUEST)


def order_attach_upstream(*, order_id: int, upstream_order_id: str, staff: User) -> Order:
    """The admin found the order upstream: record its id; status sync takes it from there."""
    upstream_order_id = upstream_order_id.strip()
    if not upstream_order_id or len(upstream_order_id) > 64:
        raise _error("Enter the provider's order id (at most 64 characters).")
    now = timezone.now()
    try:
        with transaction.atomic():
            updated = order_move(
                order_id=order_id,
                expect=Order.Status.NEEDS_REVIEW,
                to=Order.Status.SENT,
                upstream_order_id=upstream_order_id,
                sent_at=now,
                last_error=f"Upstream id attached by {staff.email}",
                review_reason=ReviewReason.NONE,
                review_data={},
                updated_at=now,
            )
            if updated:
                audit_log(
                    staff=staff,
                    obj=Order.objects.get(pk=order_id),
                    message=f"Attached the provider's order id {upstream_order_id}.",
                )
    except IntegrityError:
        raise _error("Another order of this provider already has that upstream id.") from None
    if not updated:
        raise _error("Only an order that needs review can get an upstream id.")
    return Order.objects.get(pk=order_id)


def order_resend(*, order_id: int, staff: User) -> Order:
    """The admin checked the order does not exist upstream: queue it to be sent again."""
    now = timezone.now()
    with transaction.atomic():
        updated = order_move(
            order_id=order_id,
            expect=Order.Status.NEEDS_REVIEW,
            to=Order.Status.QUEUED,
            where=Q(upstream_order_id=""),
            next_attempt_at=None,
            last_error=f"Resent by {staff.email}",
            review_reason=ReviewReason.NONE,
            review_data={},
            updated_at=now,
        )
        if not updated:
            raise _error("Only an order that needs review and has no upstream id can be resent.")
        audit_log(
            staff=staff,
            obj=Order.objects.get(pk=order_id),
            message="Resent (checked: not at the provider).",
        )
        transaction.on_commit(lambda: enqueue_forward(order_id))
    return Order.objects.get(pk=order_id)


def order_cancel_and_refund(*, order_id: int, staff: User, reason: str = "") -> Order:
    """The admin gives up on an order that never reached the provider: cancel, refund in full."""
    now = timezone.now()
    with transaction.atomic():
        updated = order_move(
            order_id=order_id,
            expect=STAFF_CANCELABLE,
            to=Order.Status.CANCELED,
            finished_at=now,
            last_error=f"Canceled and refunded by {staff.email}. {reason}".strip(),
            customer_message="This order was canceled and refunded in full.",
            updated_at=now,
        )
        if not updated:
            raise _error("Only a queued order or one that needs review can be canceled here.")
        order = Order.objects.get(pk=order_id)
        audit_log(staff=staff, obj=order, message=f"Canceled and refunded. {reason}".strip())
        order_refund(order=order, amount=order.charge, reason=f"Order {order_id} canceled by staff")
    order.refresh_from_db()
    return order


SETTLE_STATUSES = (Order.Status.COMPLETED, Order.Status.PARTIAL, Order.Status.CANCELED)


def order_settle(
    *, order_id: int, staff: User, status: str, remains: int, reason: str = ""
) -> Order:
    """Staff settle an order held on numbers we would not settle on (an impossible remains, a
    charge that disagrees, a value we cannot hold, posts owed): they checked at the provider
    what was delivered and enter its final status and remains; the refund follows from them
    exactly as for a provider's answer, once."""
    if status not in SETTLE_STATUSES:
        raise _error("Settle as completed, partial or canceled.")
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.status != Order.Status.NEEDS_REVIEW or not order.upstream_order_id:
        raise _error("Only an order at the provider that needs review can be settled.")
    units = order.units
    if status == Order.Status.COMPLETED:
        remains = 0
    elif status == Order.Status.CANCELED:
        remains = units
    if not 0 <= remains <= units:
        raise _error(f"Enter the undelivered units, between 0 and {units}.")
    refund = ZERO if order.unlimited_posts else refund_for_remains(order, remains)
    now = timezone.now()
    note = f"Settled {status} with remains {remains} by {staff.email}. {reason}".strip()
    with transaction.atomic():
        settled = order_move(
            order_id=order_id,
            expect=Order.Status.NEEDS_REVIEW,
            to=Order.Status(status),
            remains=remains,
            finished_at=now,
            last_error=note,
            updated_at=now,
        )
        if not settled:
            raise _error("Only an order at the provider that needs review can be settled.")
        order.refresh_from_db()
        audit_log(staff=staff, obj=order, message=note)
        if refund > 0:
            order_refund(order=order, amount=refund, reason=f"Order {order_id} settled by staff")
    order.refresh_from_db()
    return order
