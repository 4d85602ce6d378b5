"""Refunds: at most one per order, enforced by the ledger's unique (order, refund) key."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
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


def orders_refund_many(refunds: Sequence[tuple[Order, Decimal, str]]) -> int:
    """Refund many orders in four statements (status sync's batches); returns how many.

    Same rules as ``order_refund`` (capped, rounded down, once per order by the ledger's unique
    key): the users' rows are locked in id order, one UPDATE moves every affected balance and
    returns it, one INSERT writes the ledger rows with their running ``balance_after``, one
    UPDATE adds to the orders' ``refunded``. The caller holds the orders' row locks. If any
    order was already refunded the unique key fails the batch, and each order goes through
    ``order_refund`` on its own instead.
    """
    items = []
    for order, amount, reason in refunds:
        capped = refund_amount(min(amount, Decimal(order.charge) - Decimal(order.refunded)))
        if capped > 0:
            items.append((order, capped, reason))
    if not items:
        return 0
    if connection.vendor != "postgresql":
        return sum(1 for o, a, r in items if order_refund(order=o, amount=a, reason=r) > 0)
    by_user: dict[int, Decimal] = defaultdict(Decimal)
    for order, amount, _reason in items:
        by_user[order.user_id] += amount
    # Users in id order, so two batches (two providers' syncs) touching the same users tend to
    # take their row locks in the same order instead of deadlocking.
    totals = dict(sorted(by_user.items()))
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM accounts_user WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                    [list(totals)],
                )
                cursor.execute(
                    "UPDATE accounts_user AS u SET balance = u.balance + v.amount "
                    "FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, amount) "
                    "WHERE u.id = v.id RETURNING u.id, u.balance",
                    [list(totals), list(totals.values())],
                )
                after = dict(cursor.fetchall())
            running = {user_id: after[user_id] - total for user_id, total in totals.items()}
            entries = []
            for order, amount, reason in items:
                running[order.user_id] += amount
                entries.append(
                    LedgerEntry(
                        user_id=order.user_id,
                        kind=LedgerEntry.Kind.REFUND,
                        amount=amount,
                        balance_after=running[order.user_id],
                        order=order,
                        reason=reason[:255],
                    )
                )
            LedgerEntry.objects.bulk_create(entries)
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE orders_order AS o SET refunded = o.refunded + v.amount "
                    "FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, amount) WHERE o.id = v.id",
                    [[order.pk for order, _a, _r in items], [amount for _o, amount, _r in items]],
                )
    except IntegrityError:
        logger.warning("A batch refund hit an existing refund; refunding one by one")
        return sum(1 for o, a, r in items if order_refund(order=o, amount=a, reason=r) > 0)
    for order, amount, _reason in items:
        order.refunded = Decimal(order.refunded) + amount
    return len(items)
