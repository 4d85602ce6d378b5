"""Which gateways are enabled, and starting a deposit through one."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import Payment, User
from accounts.payments.base import Gateway, GatewayUnavailable, PaymentError
from accounts.payments.bonus import deposit_bonus, method_fee
from accounts.payments.nowpayments import nowpayments_gateway
from accounts.payments.paypal import paypal_gateway
from accounts.payments.stripe_checkout import stripe_gateway
from panel.money import money

logger = logging.getLogger(__name__)


def enabled_gateways() -> list[Gateway]:
    """The gateways a customer may use: those whose configuration is complete."""
    configured = (stripe_gateway(), nowpayments_gateway(), paypal_gateway())
    return [gateway for gateway in configured if gateway is not None]


def gateway_get(code: str) -> Gateway | None:
    return next((gateway for gateway in enabled_gateways() if gateway.code == code), None)


def validate_amount(
    amount: Decimal | str,
    *,
    currency: str,
    places: int,
    min_deposit: Decimal,
    max_deposit: Decimal,
) -> Decimal:
    """The deposit amount as money, or PaymentError with a sentence; shared by every method."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise PaymentError(gettext_noop("Enter the amount as a number, e.g. 25.00.")) from None
    if not value.is_finite() or value <= 0:
        raise PaymentError(gettext_noop("Enter an amount greater than zero."))
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise PaymentError(
            gettext_noop("The amount can have at most %(places)s decimal places."), places=places
        )
    if value < min_deposit:
        raise PaymentError(
            gettext_noop("The minimum deposit is %(amount)s %(currency)s."),
            amount=f"{min_deposit:.{places}f}",
            currency=currency,
        )
    if value > max_deposit:
        raise PaymentError(
            gettext_noop("The maximum deposit is %(amount)s %(currency)s."),
            amount=f"{max_deposit:.{places}f}",
            currency=currency,
        )
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
        raise PaymentError(gettext_noop("This payment method is not available."))
    currency = settings.PANEL_CURRENCY.upper()
    places = selected.decimal_places(currency)
    value = validate_amount(
        amount,
        currency=currency,
        places=places,
        min_deposit=selected.min_deposit,
        max_deposit=selected.max_deposit,
    )
    # Fee and bonus are fixed when the payment starts, so what the customer saw is what counts.
    payment = Payment.objects.create(
        user=user,
        gateway=selected.code,
        amount=value,
        fee=method_fee(value, selected.fee_percent, places),
        bonus=deposit_bonus(value),
        currency=currency,
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
            gettext_noop("The payment provider could not be reached. Please try again in a minute.")
        ) from exc
    Payment.objects.filter(pk=payment.pk).update(external_id=checkout.external_id)
    return checkout.redirect_url
