"""The one SMM API v2 client: every outgoing provider call lives in this package."""

from panel.smmapi.client import SMMClient
from panel.smmapi.errors import (
    NotDelivered,
    ProviderError,
    Rejected,
    RejectReason,
    UnknownOutcome,
)
from panel.smmapi.types import (
    Balance,
    ItemError,
    OrderState,
    OrderStatus,
    RefillOutcome,
    RefillState,
    ServiceInfo,
)

__all__ = [
    "Balance",
    "ItemError",
    "NotDelivered",
    "OrderState",
    "OrderStatus",
    "ProviderError",
    "RefillOutcome",
    "RefillState",
    "RejectReason",
    "Rejected",
    "SMMClient",
    "ServiceInfo",
    "UnknownOutcome",
]
