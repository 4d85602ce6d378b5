"""The payment-gateway interface: what every gateway (Stripe, NOWPayments, PayPal…) provides."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext

from accounts.models import Payment


class PaymentError(Exception):
    """A deposit cannot be started; `message` is a sentence to show the customer.

    `params` fill the sentence's placeholders, so it can be translated as one msgid.
    """

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.template = message
        self.params = params
        self.message = message % params if params else message

    def text(self) -> str:
        """The sentence in the active language."""
        translated = gettext(self.template)
        return translated % self.params if self.params else translated


class GatewayUnavailable(Exception):
    """The gateway could not be reached or refused the request; nothing was charged."""


class InvalidCallback(Exception):
    """A gateway callback's signature or body is not acceptable; nothing was done."""


@dataclass(frozen=True)
class Checkout:
    """A hosted payment page the gateway created for one pending Payment."""

    external_id: str
    redirect_url: str


@dataclass(frozen=True)
class Gateway(ABC):
    """A way to add funds online. Limits and fee come from configuration, per gateway; deposit
    bonuses are the same rules for every method (accounts.payments.bonus)."""

    code: str
    name: str
    min_deposit: Decimal
    max_deposit: Decimal
    fee_percent: Decimal

    def decimal_places(self, currency: str) -> int:
        """How many decimal places an amount in `currency` may have at this gateway."""
        return 2

    @abstractmethod
    def checkout_create(self, *, payment: Payment, success_url: str, cancel_url: str) -> Checkout:
        """Create the hosted payment page for `payment.payable`. Network I/O: never call
        inside a transaction.

        Raises GatewayUnavailable when the gateway cannot be reached or refuses.
        """

    def customer_returned(self, *, payment: Payment) -> None:
        """The customer came back from the hosted page. Gateways that must
        complete the payment from our side (PayPal's capture) do it here; the others wait for
        their signed callback. Network I/O: never call inside a transaction."""
        return None
