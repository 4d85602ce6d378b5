"""Selling prices: upstream rate (converted) × the most specific markup rule.

All rounding goes through ``panel.money.charge_amount`` (round up): a price is never below what
the exact arithmetic gives, so the panel never under-charges by a fraction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AnonymousUser

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


def _rate_for(
    *, user_id: int, service: Service, custom: Decimal | None, discount: Decimal
) -> Decimal:
    if custom is None and not discount:
        return Decimal(service.rate)
    if custom is not None:
        rate = Decimal(custom)
    else:
        rate = charge_amount(Decimal(service.rate) * (1 - discount / HUNDRED))
    floor = charge_amount(cost_rate(service))
    if rate < floor:
        logger.warning(
            "User %s's rate %s for service %s is below cost %s; charging cost",
            user_id,
            rate,
            service.pk,
            floor,
        )
        return floor
    return rate


def user_rates(
    *, user: User | AnonymousUser | None, services: Sequence[Service]
) -> dict[int, Decimal]:
    """The rate `user` pays for each of `services` (keyed by service id), in one query.

    A custom per-service rate, else the public rate less the user's discount. A custom rate or a
    discount never takes the price below the converted upstream cost: the upstream rate may have
    risen since the admin granted it (logged, so it is not silent). `services` should come with
    their provider loaded.
    """
    if user is None or not user.is_authenticated:
        return {service.pk: Decimal(service.rate) for service in services}
    custom_rates = UserRate.objects.filter(user=user)
    # Why: past a thousand ids an IN list costs more than reading all of one user's rates.
    if len(services) <= 1000:
        custom_rates = custom_rates.filter(service_id__in=[service.pk for service in services])
    custom = dict(custom_rates.values_list("service_id", "rate"))
    discount = Decimal(user.discount_percent or 0)
    return {
        service.pk: _rate_for(
            user_id=user.pk, service=service, custom=custom.get(service.pk), discount=discount
        )
        for service in services
    }


def user_rate_with(*, user: User, service: Service, custom: Decimal | None) -> Decimal:
    """``user_rate`` when the caller already read the user's custom rate for the service
    (``custom``, None for none): the placement hot path reads a service's custom rates once."""
    discount = Decimal(user.discount_percent or 0)
    return _rate_for(user_id=user.pk, service=service, custom=custom, discount=discount)


def user_rate(*, user: User | AnonymousUser | None, service: Service) -> Decimal:
    """The rate this user pays for one service (see `user_rates`)."""
    return user_rates(user=user, services=[service])[service.pk]
