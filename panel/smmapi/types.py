"""Typed answers of the provider client. No raw provider dict goes past ``panel.smmapi``."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from decimal import Decimal

from panel.smmapi.errors import RejectReason
from panel.smmapi.protocol import ServiceType


def _status_key(raw: object) -> str:
    # "In Progress", "in_progress" and "inprogress" are the same status.
    return re.sub(r"[^a-z]", "", str(raw).lower())


class OrderState(enum.StrEnum):
    """An upstream order's status, whatever the provider spelled."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    PARTIAL = "partial"
    CANCELED = "canceled"
    ACTIVE = "active"
    PAUSED = "paused"
    EXPIRED = "expired"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, raw: object) -> OrderState:
        """Map any spelling in the reference; anything else is UNKNOWN (never an error)."""
        if raw is None:
            return cls.UNKNOWN
        return _ORDER_STATES.get(_status_key(raw), cls.UNKNOWN)


_ORDER_STATES: dict[str, OrderState] = {
    "pending": OrderState.PENDING,
    "awaiting": OrderState.PENDING,
    "inprogress": OrderState.IN_PROGRESS,
    "processing": OrderState.IN_PROGRESS,
    "completed": OrderState.COMPLETED,
    "complete": OrderState.COMPLETED,
    "partial": OrderState.PARTIAL,
    "canceled": OrderState.CANCELED,
    "cancelled": OrderState.CANCELED,
    # Refunded means the provider gave the money back without delivering: a cancel.
    "refunded": OrderState.CANCELED,
    "active": OrderState.ACTIVE,
    "paused": OrderState.PAUSED,
    "expired": OrderState.EXPIRED,
    "fail": OrderState.FAILED,
    "failed": OrderState.FAILED,
    "error": OrderState.FAILED,
}


class RefillOutcome(enum.StrEnum):
    """A refill request's status, whatever the provider spelled."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, raw: object) -> RefillOutcome:
        if raw is None:
            return cls.UNKNOWN
        return _REFILL_OUTCOMES.get(_status_key(raw), cls.UNKNOWN)


_REFILL_OUTCOMES: dict[str, RefillOutcome] = {
    "pending": RefillOutcome.PENDING,
    "awaiting": RefillOutcome.PENDING,
    "inprogress": RefillOutcome.IN_PROGRESS,
    "processing": RefillOutcome.IN_PROGRESS,
    "completed": RefillOutcome.COMPLETED,
    "complete": RefillOutcome.COMPLETED,
    "rejected": RefillOutcome.REJECTED,
    # A refill that errored upstream will not be delivered: for us it is rejected.
    "error": RefillOutcome.REJECTED,
    "fail": RefillOutcome.REJECTED,
    "failed": RefillOutcome.REJECTED,
    "canceled": RefillOutcome.REJECTED,
    "cancelled": RefillOutcome.REJECTED,
}


@dataclass(frozen=True)
class ServiceInfo:
    """One row of the provider's catalogue. ``rate`` is per 1000 (per package for flat types)."""

    service_id: str
    name: str
    type: ServiceType
    category: str
    rate: Decimal
    min: int
    max: int
    refill: bool
    cancel: bool
    dripfeed: bool
    description: str


@dataclass(frozen=True)
class OrderStatus:
    """An upstream order's status as the provider reported it.

    Numbers are reported, not trusted: ``remains`` may be negative (over-delivery), larger than
    the ordered quantity, or None ("Unknown", missing); ``start_count`` is None when empty. Clamping
    ``remains`` to ``0..quantity`` before refunding is the caller's job: only it knows the quantity.
    ``posts`` is a subscription's posts delivered so far (None when the provider does not say).
    ``flags`` holds one sentence per value the client could not hold in our columns (out of
    range, not a currency code); each such value is None here, never clamped silently. A charge
    with more decimals than the money column keeps them: it is rounded where it is stored, as
    every amount is. ``raw_status`` is cut to its column (the status is read from all of it).
    """

    status: OrderState
    raw_status: str
    charge: Decimal | None
    start_count: int | None
    remains: int | None
    currency: str | None
    posts: int | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RefillState:
    status: RefillOutcome
    raw_status: str


@dataclass(frozen=True)
class Balance:
    amount: Decimal
    # Empty when the provider did not say.
    currency: str


@dataclass(frozen=True)
class ItemError:
    """The provider's error for one id of a multi-id call (the other ids may have succeeded)."""

    message: str
    reason: RejectReason
