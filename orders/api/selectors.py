"""Reads behind the reseller APIs. Every function here runs a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from accounts.models import LedgerEntry, User
from catalog import selectors as catalog_selectors
from catalog.models import Service
from orders.models import Order, Refill

# The columns a status answer needs; the rest of an order row (fields JSON, errors) stays home.
STATUS_COLUMNS = (
    "id",
    "user_id",
    "status",
    "charge",
    "refunded",
    "start_count",
    "remains",
    "quantity",
    "runs",
)


def services_for_sale() -> QuerySet[Service]:
    """The catalogue's services for sale, in the order the customer pages show them."""
    return catalog_selectors.services_for_sale().order_by(
        "category__sort_order", "category__name", "id"
    )


def orders_by_ids(*, user: User, ids: Iterable[int]) -> dict[int, Order]:
    """The user's orders among `ids` (others' and unknown ids are simply absent): one query."""
    rows = Order.objects.filter(user=user, pk__in=list(ids)).only(*STATUS_COLUMNS).order_by()
    return {order.pk: order for order in rows}


def refills_by_ids(*, user: User, ids: Iterable[int]) -> dict[int, Refill]:
    rows = Refill.objects.filter(order__user=user, pk__in=list(ids)).only("id", "status").order_by()
    return {refill.pk: refill for refill in rows}


def orders_of(user: User) -> QuerySet[Order]:
    return Order.objects.filter(user=user).select_related("service")


def refills_of(user: User) -> QuerySet[Refill]:
    return Refill.objects.filter(order__user=user)


def ledger_of(user: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(user=user)
