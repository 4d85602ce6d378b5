"""The payment-gateway interface: what every gateway (Stripe Checkout, …) provides."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import Payment


class PaymentError(Exception):
    """A deposit cannot be started; `message` is a sentence to show the customer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GatewayUnavailable(Exception):
    """The gateway could not be reached or refused the request; nothing was charged."""


@dataclass(frozen=True)
class Checkout:
    """A hosted payment page the gateway created for one pending Payment."""

    external_id: str
    redirect_url: str


@dataclass(frozen=True)
class Gateway(ABC):
    """A way to add funds. Limits and bonus come from configuration, per gateway."""

    code: str
    name: str
    min_deposit: Decimal
    max_deposit: Decimal
    bonus_percent: Decimal

    def decimal_places(self, currency: str) -> int:
        """How many decimal places an amount in `currency` may have at this gateway."""
        return 2

    @abstractmethod
    def checkout_create(self, *, payment: Payment, success_url: str, cancel_url: str) -> Checkout:
        """Create the hosted payment page. Network I/O: never call inside a transaction.

        Raises GatewayUnavailable when the gateway cannot be reached or refuses.
        """
