"""What a final answer is worth: the refund it settles, or why it is held for staff.

A provider's ``remains`` is a claim, and so is its ``charge``. Money moves only when the two
tell the same story: ``remains`` lies in ``0..units`` and the provider's charge after its own
refund is the delivered share of its charge before (within a cent of its currency). Anything
else is held in needs review with both numbers, never clamped into a refund.

Units are what the customer paid for (``Order.units``): quantity × runs for drip-feed, posts for
a subscription with a posts limit (``remains`` counts undelivered posts), 1 for a package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from orders.models import Order
from orders.services.refunds import refund_for_remains
from orders.states import OrderStatus, ReviewReason
from panel.money import ZERO, money, refund_amount
from panel.smmapi.protocol import ServiceType

S = OrderStatus
SUBSCRIPTIONS = ServiceType.SUBSCRIPTIONS.value
PACKAGES = (ServiceType.PACKAGE.value, ServiceType.CUSTOM_COMMENTS_PACKAGE.value)
# A provider rounds its charge and its refund to its currency's cents (some to 5 decimals).
CHARGE_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True)
class Verdict:
    """A final answer settles ``refund`` (and books ``provider_refunded``), or is held."""

    refund: Decimal = ZERO
    provider_refunded: Decimal = ZERO
    hold: ReviewReason = ReviewReason.NONE
    note: str = ""
    data: dict[str, object] = field(default_factory=dict)


def expected_cost(order: Order, rate: Decimal, exchange_rate: Decimal) -> Decimal | None:
    """What the provider charges for the order at the service's rate (``rate``, per 1000 or
    per package, in its currency), in panel currency; the stand-in for its charge before a
    refund when no earlier answer told us."""
    if order.type in PACKAGES:
        units = Decimal(1)
    elif order.type == SUBSCRIPTIONS:
        units = Decimal(order.quantity * int(order.fields.get("max", 0) or 0)) / 1000
    else:
        units = Decimal(order.units) / 1000
    if rate <= 0 or units <= 0:
        return None
    return money(rate * units * exchange_rate)


def settle(
    *,
    order: Order,
    status: str,
    undelivered: int | None,
    charge_before: Decimal | None,
    charge_after: Decimal | None,
    exchange_rate: Decimal,
) -> Verdict:
    """Judge a final answer. ``charge_before``/``charge_after``: the provider's charge before
    its refund (an earlier answer, or the expected cost) and in this answer, panel currency."""
    provider_refunded = ZERO
    if charge_before is not None and charge_after is not None:
        provider_refunded = max(charge_before - charge_after, ZERO)
    if order.unlimited_posts:
        # Charged per delivered post: nothing was paid in advance.
        return Verdict(provider_refunded=provider_refunded)
    if (
        status == S.COMPLETED
        and order.type not in PACKAGES
        and undelivered is not None
        and undelivered > order.units
    ):
        # More left to deliver than was ever ordered: no provider can mean that, whatever it
        # calls the order. (Negative remains on Completed is over-delivery, and common.)
        return Verdict(
            hold=ReviewReason.IMPOSSIBLE_NUMBER,
            note=f"The provider reports {status} with remains {undelivered} of {order.units}: "
            "more than was ordered. Nothing was settled; check the order at the provider.",
            data={"provider_status": status, "remains": undelivered, "units": order.units},
        )
    canceled_subscription = (
        status == S.CANCELED and order.type == SUBSCRIPTIONS and undelivered is not None
    )
    if status not in (S.PARTIAL, S.EXPIRED) and not canceled_subscription:
        refund = Decimal(order.charge) if status == S.CANCELED else ZERO
        return Verdict(refund=refund, provider_refunded=provider_refunded)
    numbers: dict[str, object] = {
        "provider_status": status,
        "remains": undelivered,
        "units": order.units,
        "provider_charge_before": _text(charge_before),
        "provider_charge_after": _text(charge_after),
    }
    if order.type in PACKAGES:
        return _settle_package(order, charge_before, charge_after, provider_refunded, numbers)
    units = order.units
    if undelivered is None or units <= 0 or not 0 <= undelivered <= units:
        return Verdict(
            hold=ReviewReason.IMPOSSIBLE_NUMBER,
            note=f"The provider reports {status} with remains {undelivered} of {units}: "
            "not a number to settle money on. Nothing was refunded.",
            data=numbers,
        )
    # A cancel is refunded in full upstream (the reference), whatever was delivered: its charge
    # says nothing about the posts; only the bounds of remains are checked.
    crosscheck = not canceled_subscription
    if crosscheck and charge_before is not None and charge_after is not None and charge_before > 0:
        agreed = money(charge_before * (units - undelivered) / units)
        numbers["provider_charge_expected"] = _text(agreed)
        tolerance = CHARGE_TOLERANCE * exchange_rate
        if abs(charge_after - agreed) > tolerance:
            return Verdict(
                hold=ReviewReason.IMPOSSIBLE_NUMBER,
                note=f"The provider reports remains {undelivered} of {units}, which means a "
                f"charge of {agreed} after its refund, but it charges {charge_after} (of "
                f"{charge_before}). Nothing was refunded.",
                data=numbers,
            )
    return Verdict(
        refund=refund_for_remains(order, undelivered), provider_refunded=provider_refunded
    )


def _settle_package(
    order: Order,
    charge_before: Decimal | None,
    charge_after: Decimal | None,
    provider_refunded: Decimal,
    numbers: dict[str, object],
) -> Verdict:
    """A package is one unit: a Partial one is refunded in the share the provider refunded."""
    if (
        charge_before is None
        or charge_after is None
        or charge_before <= 0
        or not ZERO <= charge_after <= charge_before
    ):
        return Verdict(
            hold=ReviewReason.IMPOSSIBLE_NUMBER,
            note=f"A partial package with the provider's charge {charge_after} of "
            f"{charge_before}: no share to refund. Nothing was refunded.",
            data=numbers,
        )
    share = (charge_before - charge_after) / charge_before
    return Verdict(
        refund=refund_amount(Decimal(order.charge) * share), provider_refunded=provider_refunded
    )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
