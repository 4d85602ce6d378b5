"""Selling prices: upstream rate (converted) × the most specific markup rule.

All rounding goes through ``panel.money.charge_amount`` (round up): a price is never below what
the exact arithmetic gives, so the panel never under-charges by a fraction.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.conf import settings

from accounts.models import User
from catalog.models import Service, UserRate
from panel.money import charge_amount

logger = logging.getLogger("catalog.pricing")

HUNDRED = Decimal(100)


def default_markup_percent() -> Decimal:
    return Decimal(settings.CATALOG_DEFAULT_MARKUP_PERCENT)


def pick_markup(*candidates: Decimal | None, default: Decimal | None = None) -> Decimal:
    """The first rule that is set, most specific first; else the global default."""
    for candidate in candidates:
        if candidate is not None:
            return Decimal(candidate)
    return default if default is not None else default_markup_percent()


def markup_percent_for(service: Service, *, default: Decimal | None = None) -> Decimal:
    """Per-service % → per-category % → provider default % → global default %."""
    return pick_markup(
        service.markup_percent,
        service.category.markup_percent,
        service.provider.default_markup_percent,
        default=default,
    )


def convert_cost(upstream_rate: Decimal, exchange_rate: Decimal) -> Decimal:
    """An upstream rate in the panel currency (unrounded)."""
    return Decimal(upstream_rate) * Decimal(exchange_rate)


def cost_rate(service: Service) -> Decimal:
    """The upstream rate in the panel currency (unrounded)."""
    return convert_cost(service.upstream_rate, service.provider.exchange_rate)


def marked_up_rate(cost: Decimal, markup_percent: Decimal) -> Decimal:
    return charge_amount(cost * (1 + Decimal(markup_percent) / HUNDRED))


def rate_from_rules(
    *, cost: Decimal, fixed_rate: Decimal | None, markup_percent: Decimal
) -> Decimal:
    """The selling rate from already-resolved rules: a fixed rate wins over any percentage.

    The sync prices thousands of rows with this without touching the database.
    """
    if fixed_rate is not None:
        return charge_amount(Decimal(fixed_rate))
    return marked_up_rate(cost, markup_percent)


def is_below_cost(*, fixed_rate: Decimal | None, cost: Decimal) -> bool:
    """True when a fixed price no longer covers the converted upstream cost."""
    return fixed_rate is not None and Decimal(fixed_rate) < cost


def selling_rate(service: Service, *, default_markup: Decimal | None = None) -> Decimal:
    """Our public selling rate per 1000 (per package for flat types) in the panel currency.

    A fixed rate wins over every percentage rule.
    """
    return rate_from_rules(
        cost=cost_rate(service),
        fixed_rate=service.fixed_rate,
        markup_percent=markup_percent_for(service, default=default_markup),
    )


def user_rate(*, user: User | None, service: Service) -> Decimal:
    """The rate this user pays: a custom per-service rate, else the public rate less discount.

    A custom rate or a discount never takes the price below the converted upstream cost: the
    upstream rate may have risen since the admin granted it (logged, so it is not silent).
    """
    if user is None or not user.is_authenticated:
        return Decimal(service.rate)
    custom = UserRate.objects.filter(user=user, service=service).values_list("rate", flat=True)
    rate: Decimal | None = None
    for value in custom:
        rate = Decimal(value)
    if rate is None:
        if not user.discount_percent:
            return Decimal(service.rate)
        rate = charge_amount(Decimal(service.rate) * (1 - Decimal(user.discount_percent) / HUNDRED))
    floor = charge_amount(cost_rate(service))
    if rate < floor:
        logger.warning(
            "User %s's rate %s for service %s is below cost %s; charging cost",
            user.pk,
            rate,
            service.pk,
            floor,
        )
        return floor
    return rate
