"""Deposit bonuses and method fees: the same rules for every payment method."""

from __future__ import annotations

from decimal import ROUND_UP, Decimal

from accounts.models import DepositBonus
from panel.money import PLACES, money, refund_amount


def bonus_rules() -> list[DepositBonus]:
    return list(DepositBonus.objects.filter(is_enabled=True).order_by("min_amount"))


def deposit_bonus(amount: Decimal) -> Decimal:
    """The bonus for a deposit of `amount`: the highest percent among the enabled rules whose
    threshold the amount reaches. Rounded down, like every amount we give away."""
    percents = [rule.percent for rule in bonus_rules() if amount >= rule.min_amount]
    if not percents:
        return money(0)
    return refund_amount(amount * max(percents) / 100)


def method_fee(amount: Decimal, fee_percent: Decimal, places: int = 2) -> Decimal:
    """The fee the customer pays on top of `amount`, rounded up to what the method can charge
    (a fee is a charge: never rounded in the customer's favour below a cent)."""
    if fee_percent <= 0:
        return money(0)
    exact = amount * fee_percent / 100
    return money(exact.quantize(Decimal(1).scaleb(-min(places, PLACES)), rounding=ROUND_UP))
