"""Reads behind the reseller APIs. Every function here runs a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db.models import QuerySet

from accounts.models import LedgerEntry, User
from catalog import selectors as catalog_selectors
from catalog.models import Service, UserRate
from catalog.pricing import HUNDRED, cost_rate
from orders.models import Order, Refill
from panel.money import charge_amount

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


def rates_for(*, user: User, services: Sequence[Service]) -> dict[int, Decimal]:
    """The rate `user` pays for each service, with one query for all their custom rates.

    Same rule as `catalog.pricing.user_rate` (a test holds the two together), which costs one
    query per row: a custom per-service rate, else the public rate less the discount, and never
    below the converted upstream cost. `services` must come with their provider loaded.
    """
    custom_rates = UserRate.objects.filter(user=user)
    if len(services) <= 1000:
        custom_rates = custom_rates.filter(service__in=[service.pk for service in services])
    custom = dict(custom_rates.values_list("service_id", "rate"))
    discount = Decimal(user.discount_percent or 0)
    rates: dict[int, Decimal] = {}
    for service in services:
        if service.pk in custom:
            rate = Decimal(custom[service.pk])
        elif discount:
            rate = charge_amount(Decimal(service.rate) * (1 - discount / HUNDRED))
        else:
            rates[service.pk] = Decimal(service.rate)
            continue
        rates[service.pk] = max(rate, charge_amount(cost_rate(service)))
    return rates


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
