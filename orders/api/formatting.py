"""How our rows look in the canonical SMM API v2 vocabulary (shared by /api/v2 and REST)."""

from __future__ import annotations

import functools
from decimal import Decimal

from orders.models import Order, Refill
from panel.money import money
from panel.smmapi.protocol import RefillStatus, Status

# Everything before the provider has started is "Pending" to the customer: queued, in flight to
# the provider, accepted upstream, or waiting for staff after an unclear answer.
ORDER_STATUS: dict[str, Status] = {
    Order.Status.QUEUED: Status.PENDING,
    Order.Status.SENDING: Status.PENDING,
    Order.Status.SENT: Status.PENDING,
    Order.Status.NEEDS_REVIEW: Status.PENDING,
    Order.Status.IN_PROGRESS: Status.IN_PROGRESS,
    Order.Status.COMPLETED: Status.COMPLETED,
    Order.Status.PARTIAL: Status.PARTIAL,
    # A failed order was refunded in full: for the customer it is a cancel.
    Order.Status.CANCELED: Status.CANCELED,
    Order.Status.FAILED: Status.CANCELED,
    Order.Status.ACTIVE: Status.ACTIVE,
    Order.Status.PAUSED: Status.PAUSED,
    Order.Status.EXPIRED: Status.EXPIRED,
}

REFILL_STATUS: dict[str, RefillStatus] = {
    Refill.Status.QUEUED: RefillStatus.PENDING,
    Refill.Status.SENDING: RefillStatus.PENDING,
    Refill.Status.PENDING: RefillStatus.PENDING,
    Refill.Status.NEEDS_REVIEW: RefillStatus.PENDING,
    Refill.Status.IN_PROGRESS: RefillStatus.IN_PROGRESS,
    Refill.Status.COMPLETED: RefillStatus.COMPLETED,
    Refill.Status.REJECTED: RefillStatus.REJECTED,
}


def canonical_status(status: str) -> str:
    # An unknown internal status must not break the answer: it is still in the works.
    return str(ORDER_STATUS.get(status, Status.PENDING))


def canonical_refill_status(status: str) -> str:
    return str(REFILL_STATUS.get(status, RefillStatus.PENDING))


# Why remembered: a status answer formats up to 100 charges, most of them the same few prices.
@functools.lru_cache(maxsize=4096)
def fmt_money(value: Decimal) -> str:
    """A money amount as the canonical decimal string: at least 2, at most 5 decimals."""
    text = format(money(value), "f")
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0").ljust(2, "0")
    return f"{whole}.{fraction}"


def net_charge(order: Order) -> Decimal:
    """What the order finally cost the customer: the charge less refunds (like upstream panels,
    whose `charge` drops after a partial or a cancel)."""
    return Decimal(order.charge) - Decimal(order.refunded)


def total_quantity(order: Order) -> int:
    # Drip-feed: `quantity` is per run, what is delivered is quantity × runs.
    return order.quantity * (order.runs or 1)


def remains_of(order: Order) -> int:
    return remains_value(
        status=order.status, remains=order.remains, quantity=order.quantity, runs=order.runs
    )


def remains_value(*, status: str, remains: int | None, quantity: int, runs: int | None) -> int:
    """What is left to deliver: the provider's figure, else none once completed, else all."""
    if remains is not None:
        return remains
    if status == Order.Status.COMPLETED:
        return 0
    return quantity * (runs or 1)
