"""Refunds: at most one per order, enforced by the ledger's unique (order, refund) key."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import LedgerEntry, User
from accounts.services import balance_credit
from orders.models import Order
from panel.money import ZERO, refund_amount

logger = logging.getLogger(__name__)


def units_of(order: Order) -> int:
    """Units the customer paid for: quantity × runs (posts for subscriptions, 1 for packages)."""
    return order.quantity * (order.runs or 1)


def refund_for_remains(order: Order, remains: int) -> Decimal:
    """What ``remains`` undelivered units are worth: remains × the unit price actually charged.

    ``remains`` is clamped to ``0..units`` so over-delivery or nonsense never refunds more than
    the charge; the amount rounds down.
    """
    units = units_of(order)
    if units <= 0:
        return ZERO
    remains = min(max(remains, 0), units)
    return refund_amount(Decimal(order.charge) * remains / units)


def order_refund(*, order: Order, amount: Decimal, reason: str) -> Decimal:
    """Credit ``amount`` (capped at what is left of the charge) back once; returns what was paid.

    A second call for the same order hits the ledger's unique key and pays nothing, so callers
    may call this whenever they see a refundable status.
    """
    amount = refund_amount(min(amount, Decimal(order.charge) - Decimal(order.refunded)))
    if amount <= 0:
        return ZERO
    try:
        with transaction.atomic():
            balance_credit(
                user=User(pk=order.user_id),
                amount=amount,
                kind=LedgerEntry.Kind.REFUND,
                order=order,
                reason=reason,
            )
            Order.objects.filter(pk=order.pk).update(refunded=F("refunded") + amount)
    except IntegrityError:
        logger.info("Order %s was already refunded; not refunding again", order.pk)
        return ZERO
    order.refunded = Decimal(order.refunded) + amount
    return amount
