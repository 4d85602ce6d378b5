"""Selling prices: upstream rate (converted) × the most specific markup rule."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from accounts.models import User
from catalog.models import Service, UserRate
from panel.money import charge_amount

HUNDRED = Decimal(100)


def markup_percent_for(service: Service) -> Decimal:
    """Per-service % → per-category % → provider default % → global default %."""
    for candidate in (
        service.markup_percent,
        service.category.markup_percent,
        service.provider.default_markup_percent,
    ):
        if candidate is not None:
            return Decimal(candidate)
    return Decimal(settings.CATALOG_DEFAULT_MARKUP_PERCENT)


def cost_rate(service: Service) -> Decimal:
    """The upstream rate in the panel currency (unrounded)."""
    return Decimal(service.upstream_rate) * Decimal(service.provider.exchange_rate)


def selling_rate(service: Service) -> Decimal:
    """Our public selling rate per 1000 (per package for flat types) in the panel currency.

    A fixed rate wins over every percentage rule.
    """
    if service.fixed_rate is not None:
        return Decimal(service.fixed_rate)
    return charge_amount(cost_rate(service) * (1 + markup_percent_for(service) / HUNDRED))


def user_rate(*, user: User | None, service: Service) -> Decimal:
    """The rate this user pays: a custom per-service rate, else the public rate less discount."""
    if user is None or not user.is_authenticated:
        return Decimal(service.rate)
    custom = UserRate.objects.filter(user=user, service=service).values_list("rate", flat=True)
    for rate in custom:
        return Decimal(rate)
    if user.discount_percent:
        return charge_amount(
            Decimal(service.rate) * (1 - Decimal(user.discount_percent) / HUNDRED)
        )
    return Decimal(service.rate)
