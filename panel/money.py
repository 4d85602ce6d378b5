"""Money helpers: Decimal end to end, one precision, one rounding rule per direction."""

from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from django.db import models

# Amounts are kept to 5 decimal places: providers bill fractions of a cent per order.
PLACES = 5
QUANTUM = Decimal(1).scaleb(-PLACES)
ZERO = Decimal(0).quantize(QUANTUM)


# The largest amount a MoneyField (18 digits, 5 of them decimals) holds.
MONEY_MAX = Decimal(10) ** (18 - PLACES) - QUANTUM


def fits_money(value: Decimal) -> bool:
    """Whether ``value`` fits the money column. SQLite would store a bigger one and then fail
    to read it back, so callers check before writing rather than rely on the database."""
    return value.is_finite() and abs(value) <= MONEY_MAX


def money(value: Decimal | int | str, *, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Quantize an amount to the panel precision. Never pass a float."""
    if isinstance(value, float):
        raise TypeError("money() refuses floats; parse the decimal string instead")
    return Decimal(value).quantize(QUANTUM, rounding=rounding)


def charge_amount(value: Decimal) -> Decimal:
    """What a customer is charged: rounded up, so the panel never under-charges."""
    return money(value, rounding=ROUND_UP)


def refund_amount(value: Decimal) -> Decimal:
    """What a customer is refunded: rounded down, so a refund never exceeds the charge."""
    return money(value, rounding=ROUND_DOWN)


class MoneyField(models.DecimalField):  # type: ignore[type-arg]
    """The one money column definition."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", PLACES)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "panel.money.MoneyField", args, kwargs
