"""Reads behind the reseller APIs. Every function here runs a constant number of queries."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models import QuerySet

from accounts.models import LedgerEntry, User
from catalog import selectors as catalog_selectors
from catalog.models import Service
from orders.models import Order, Refill

# The columns a status answer needs, in the order of StatusRow; the rest of an order row
# (fields JSON, errors) stays home.
STATUS_COLUMNS = (
    "id",
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


class StatusRow(NamedTuple):
    id: int
    status: str
    charge: Decimal
    refunded: Decimal
    start_count: int | None
    remains: int | None
    quantity: int
    runs: int | None


def order_status_rows(*, user: User, ids: Iterable[int]) -> dict[int, StatusRow]:
    """The status columns of the user's orders among `ids` (others' and unknown ids are simply
    absent): one query. Plain tuples, not model instances: building 100 instances cost more
    than the query and the answer together."""
    wanted = list(ids)
    if not wanted:
        return {}
    if connection.vendor != "postgresql":
        rows = Order.objects.filter(user=user, pk__in=wanted).values_list(*STATUS_COLUMNS)
        return {row[0]: StatusRow._make(row) for row in rows.order_by()}
    # Why raw SQL: one array parameter instead of 100 placeholders, which the ORM and the
    # driver would otherwise prepare and bind one by one on every request. The array goes as
    # its text form: the driver quotes one string instead of adapting 100 numbers.
    with connection.cursor() as cursor:
        cursor.execute(_status_sql(), [user.pk, "{" + ",".join(str(int(i)) for i in wanted) + "}"])
        return {row[0]: StatusRow._make(row) for row in cursor.fetchall()}


@functools.cache
def _status_sql() -> str:
    quote = connection.ops.quote_name
    columns = {f.name: quote(str(f.column)) for f in Order._meta.concrete_fields}
    return (
        f"SELECT {', '.join(columns[name] for name in STATUS_COLUMNS)} "  # noqa: S608 (model identifiers)
        f"FROM {quote(Order._meta.db_table)} WHERE {columns['user']} = %s "
        f"AND {columns['id']} = ANY(%s::{Order._meta.pk.cast_db_type(connection)}[])"
    )


def refills_by_ids(*, user: User, ids: Iterable[int]) -> dict[int, Refill]:
    rows = Refill.objects.filter(order__user=user, pk__in=list(ids)).only("id", "status").order_by()
    return {refill.pk: refill for refill in rows}


def orders_of(user: User) -> QuerySet[Order]:
    return Order.objects.filter(user=user).select_related("service")


def refills_of(user: User) -> QuerySet[Refill]:
    return Refill.objects.filter(order__user=user)


def ledger_of(user: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(user=user)
