"""Which gateways are enabled, and starting a deposit through one."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Payment, User
from accounts.payments.base import Gateway, GatewayUnavailable, PaymentError
from accounts.payments.stripe_checkout import stripe_gateway
from panel.money import money, refund_amount

logger = logging.getLogger(__name__)


def enabled_gateways() -> list[Gateway]:
    """The gateways a customer may use: those whose configuration is complete."""
    return [gateway for gateway in (stripe_gateway(),) if gateway is not None]


def gateway_get(code: str) -> Gateway | None:
    return next((gateway for gateway in enabled_gateways() if gateway.code == code), None)


def _validate_amount(gateway: Gateway, amount: Decimal | str, currency: str) -> Decimal:
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise PaymentError("Enter the amount as a number, e.g. 25.00.") from None
    if not value.is_finite() or value <= 0:
        raise PaymentError("Enter an amount greater than zero.")
    places = gateway.decimal_places(currency)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise PaymentError(f"The amount can have at most {places} decimal places.")
    if value < gateway.min_deposit:
        raise PaymentError(f"The minimum deposit is {gateway.min_deposit} {currency}.")
    if value > gateway.max_deposit:
        raise PaymentError(f"The maximum deposit is {gateway.max_deposit} {currency}.")
    return money(value)


def payment_start(*, user: User, gateway: str, amount: Decimal, base_url: str | None = None) -> str:
    """Create a pending Payment and the gateway's hosted page; return the URL to send the user to.

    `base_url` (scheme + host, e.g. request.build_absolute_uri("/")) is where the gateway sends
    the customer back; it defaults to settings.PANEL_BASE_URL. The balance is credited only by
    the gateway's signed confirmation (webhook), never by the customer returning.
    Raises PaymentError (a sentence for the customer) for a bad amount, a disabled gateway or
    an unreachable gateway. Makes a network call: never call inside a transaction.
    """
    selected = gateway_get(gateway)
    if selected is None:
        raise PaymentError("This payment method is not available.")
    currency = settings.PANEL_CURRENCY.upper()
    value = _validate_amount(selected, amount, currency)
    # The bonus is fixed when the payment starts; rounding down, like every amount we give away.
    bonus = refund_amount(value * selected.bonus_percent / 100)
    payment = Payment.objects.create(
        user=user, gateway=selected.code, amount=value, bonus=bonus, currency=currency
    )

    root = (base_url or settings.PANEL_BASE_URL).rstrip("/")
    success_url = root + reverse("payment_return", args=[payment.pk, "success"])
    cancel_url = root + reverse("payment_return", args=[payment.pk, "cancel"])
    try:
        checkout = selected.checkout_create(
            payment=payment, success_url=success_url, cancel_url=cancel_url
        )
    except GatewayUnavailable as exc:
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
            status=Payment.Status.FAILED,
            note=f"Could not start: {exc}"[:255],
            updated_at=timezone.now(),
        )
        raise PaymentError(
            "The payment provider could not be reached. Please try again in a minute."
        ) from exc
    Payment.objects.filter(pk=payment.pk).update(external_id=checkout.external_id)
    return checkout.redirect_url
