"""Customer refill requests."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from orders.errors import RefillError
from orders.models import Order, Refill
from orders.states import REFILLABLE
from panel.smmapi.protocol import Error

logger = logging.getLogger(__name__)


def refill_window_ends(order: Order) -> dt.datetime:
    """Refills are accepted for ``refill_days`` after the order finished."""
    return (order.finished_at or order.created_at) + dt.timedelta(days=order.service.refill_days)


def refill_available(order: Order) -> bool:
    """Whether a refill may be requested now (ignoring one already in flight)."""
    return (
        order.service.refill
        and order.status in REFILLABLE
        and bool(order.upstream_order_id)
        and timezone.now() <= refill_window_ends(order)
    )


def refill_request(*, user: User, order_id: int) -> Refill:
    """Ask for a refill of the user's finished order. Raises RefillError.

    One refill per order may be in flight (a partial unique index backs this up).
    """
    order = Order.objects.select_related("service").filter(pk=order_id, user=user).first()
    if order is None:
        raise RefillError("This order does not exist.", api_error=Error.INCORRECT_ORDER)
    if not refill_available(order):
        raise RefillError(
            "Refill is not available for this order.", api_error=Error.REFILL_NOT_AVAILABLE
        )
    try:
        with transaction.atomic():
            refill = Refill.objects.create(order=order)
            transaction.on_commit(lambda: enqueue_refill(refill.pk))
    except IntegrityError:
        raise RefillError(
            "A refill of this order is already in progress.",
            api_error=Error.REFILL_NOT_AVAILABLE,
        ) from None
    return refill


def enqueue_refill(refill_id: int) -> None:
    from orders import tasks

    try:
        tasks.forward_refill.delay(refill_id)
    except Exception:
        logger.exception("Could not enqueue refill %s; the sweeper will pick it up", refill_id)
