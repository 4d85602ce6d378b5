"""Stripe Checkout: hosted payment pages and their webhook events (official `stripe` SDK)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import httpx
import stripe
from django.conf import settings
from django.utils.translation import gettext

from accounts.models import Payment
from accounts.payments.base import Checkout, Gateway, GatewayUnavailable, InvalidCallback
from accounts.payments.services import payment_close, payment_confirm
from panel.money import money

logger = logging.getLogger(__name__)

CODE = "stripe"

# Stripe amounts are integers in the currency's minor unit; these currencies have none.
# https://docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA"}
    | {"PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)


def _minor_exponent(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


def to_minor_units(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(_minor_exponent(currency)).to_integral_exact())


def from_minor_units(value: int, currency: str) -> Decimal:
    return money(Decimal(value).scaleb(-_minor_exponent(currency)))


@lru_cache(maxsize=4)
def _client(api_key: str) -> stripe.StripeClient:
    # httpx with explicit timeouts (the SDK default is 80 s). Retries are safe: every create
    # carries an idempotency key derived from our Payment id.
    http_client = stripe.HTTPXClient(
        timeout=httpx.Timeout(20.0, connect=5.0), allow_sync_methods=True
    )
    return stripe.StripeClient(api_key, http_client=http_client, max_network_retries=1)


@dataclass(frozen=True)
class StripeGateway(Gateway):
    api_key: str = ""

    def decimal_places(self, currency: str) -> int:
        return _minor_exponent(currency)

    def checkout_create(self, *, payment: Payment, success_url: str, cancel_url: str) -> Checkout:
        params: dict[str, Any] = {
            "mode": "payment",
            "client_reference_id": str(payment.pk),
            "metadata": {"payment_id": str(payment.pk), "user_id": str(payment.user_id)},
            "customer_email": payment.user.email,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": payment.currency.lower(),
                        "unit_amount": to_minor_units(payment.payable, payment.currency),
                        "product_data": {"name": f"{settings.PANEL_NAME} balance top-up"},
                    },
                }
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        try:
            session = _client(self.api_key).v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"upline-payment-{payment.pk}"},
            )
        except stripe.StripeError as exc:
            logger.warning("Stripe checkout for payment %s failed: %s", payment.pk, exc)
            raise GatewayUnavailable(str(exc)) from exc
        if not session.id or not session.url:
            raise GatewayUnavailable("Stripe returned a session without an id or URL")
        return Checkout(external_id=session.id, redirect_url=session.url)


def stripe_gateway() -> StripeGateway | None:
    """The configured Stripe gateway, or None when its keys are not set."""
    if not (settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET):
        return None
    return StripeGateway(
        code=CODE,
        name=gettext("Card (Stripe)"),
        min_deposit=settings.STRIPE_MIN_DEPOSIT,
        max_deposit=settings.STRIPE_MAX_DEPOSIT,
        fee_percent=settings.STRIPE_FEE_PERCENT,
        api_key=settings.STRIPE_SECRET_KEY,
    )


def stripe_webhook_parse(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    """Verify the Stripe-Signature header (HMAC-SHA256, timestamp tolerance) and parse the event."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise InvalidCallback("Stripe webhooks are not configured")
    try:
        # Why the tolerance: without it the SDK accepts any old signed body (replays).
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, secret, tolerance=stripe.Webhook.DEFAULT_TOLERANCE
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise InvalidCallback(str(exc)) from exc
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise InvalidCallback("Not a Stripe event")
    return event


PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}


def stripe_event_handle(*, event: dict[str, Any]) -> None:
    """Apply one verified Checkout event. Safe to repeat and to receive out of order:
    the payment's state machine (pending → paid/expired/failed, all final) decides."""
    event_type = event.get("type")
    session = event["data"].get("object")
    if not isinstance(session, dict) or session.get("object") != "checkout.session":
        return
    metadata = session.get("metadata") or {}
    reference = session.get("client_reference_id") or metadata.get("payment_id") or ""
    session_id = str(session.get("id") or "")
    if not str(reference).isdigit() or not session_id:
        logger.warning("Stripe event %s has no payment reference; ignored", event.get("id"))
        return
    payment_id = int(reference)

    if event_type in PAID_EVENTS:
        # Why: for delayed methods (bank debits) `completed` arrives unpaid; the money is
        # only ours at `async_payment_succeeded`, which carries payment_status "paid".
        if session.get("payment_status") != "paid":
            return
        currency = str(session.get("currency") or "").upper()
        amount_total = session.get("amount_total")
        if not isinstance(amount_total, int) or not currency:
            logger.error("Stripe event %s lacks amount or currency", event.get("id"))
            return
        payment_confirm(
            payment_id=payment_id,
            gateway=CODE,
            external_id=session_id,
            amount=from_minor_units(amount_total, currency),
            currency=currency,
        )
    elif event_type == "checkout.session.expired":
        payment_close(
            payment_id=payment_id,
            gateway=CODE,
            external_id=session_id,
            status=Payment.Status.EXPIRED,
            note="The checkout session expired",
        )
    elif event_type == "checkout.session.async_payment_failed":
        payment_close(
            payment_id=payment_id,
            gateway=CODE,
            external_id=session_id,
            status=Payment.Status.FAILED,
            note="The payment method was declined",
        )
