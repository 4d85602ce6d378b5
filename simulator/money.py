"""Decimal helpers for the simulator's own bookkeeping (kept free of Django on purpose)."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Decimal, InvalidOperation

QUANTUM = Decimal("0.00001")
ZERO = Decimal("0.00000")


def money(value: Decimal | int | str) -> Decimal:
    """Parse an amount; raise ValueError on garbage, negatives or floats."""
    if isinstance(value, float):
        raise TypeError("money() refuses floats; pass the decimal string")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"not an amount: {value!r}")
    return amount.quantize(QUANTUM, rounding=ROUND_DOWN)


def charge_of(amount: Decimal) -> Decimal:
    """What the provider bills: rounded up to 5 places, like real panels."""
    return amount.quantize(QUANTUM, rounding=ROUND_UP)


def refund_of(amount: Decimal) -> Decimal:
    """What the provider gives back: rounded down, so a refund never exceeds the charge."""
    return amount.quantize(QUANTUM, rounding=ROUND_DOWN)


def fmt_money(value: Decimal) -> str:
    """Render an amount the way providers do: 2 to 5 decimals ("0.90", "0.27819")."""
    whole, _, frac = f"{value.quantize(QUANTUM):f}".partition(".")
    return f"{whole}.{frac.rstrip('0').ljust(2, '0')}"
