"""PayPal Checkout: orders API v2 and verified webhooks, over plain HTTPS with httpx.

Documented at https://developer.paypal.com/docs/api/orders/v2/ and
https://developer.paypal.com/api/webhooks/v1/#verify-webhook-signature_post:
- POST /v1/oauth2/token (client id + secret, client_credentials) gives a bearer token.
- POST /v2/checkout/orders (intent CAPTURE, one purchase unit whose custom_id is our Payment
  id) answers the order id and a `payer-action` link, the page the customer approves on.
- After approval the order is captured from our side: POST /v2/checkout/orders/{id}/capture
  answers the capture with its status and amount. We capture when the customer returns, and
  also on the CHECKOUT.ORDER.APPROVED webhook (a customer who closes the tab still pays).
- Webhooks carry PAYPAL-TRANSMISSION-* headers; POST /v1/notifications/verify-webhook-signature
  with them, our webhook id and the event says SUCCESS or FAILURE.
- PAYMENT.CAPTURE.COMPLETED credits; PAYMENT.CAPTURE.DENIED / DECLINED fails the payment.
Every request carries a PayPal-Request-Id derived from our Payment id, so a retried create or
capture is the same operation at PayPal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache

from accounts.models import Payment
from accounts.payments.base import Checkout, Gateway, GatewayUnavailable, InvalidCallback
from accounts.payments.services import payment_close, payment_confirm
from panel.money import money

logger = logging.getLogger(__name__)

CODE = "paypal"
TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# PayPal amounts: two decimals, except these currencies, which have none.
ZERO_DECIMAL_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})
WEBHOOK_HEADERS = {
    "auth_algo": "PAYPAL-AUTH-ALGO",
    "cert_url": "PAYPAL-CERT-URL",
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
}


class PayPalError(Exception):
    """PayPal could not be reached or answered an error."""


def _api(path: str) -> str:
    return settings.PAYPAL_API_URL.rstrip("/") + path


def _token() -> str:
    key = f"paypal-token:{settings.PAYPAL_CLIENT_ID}"
    token = cache.get(key)
    if token:
        return str(token)
    try:
        response = httpx.post(
            _api("/v1/oauth2/token"),
            data={"grant_type": "client_credentials"},
            auth=(settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET),
            timeout=TIMEOUT,
        )
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise PayPalError(f"token: {exc}") from exc
    if response.status_code != 200 or not isinstance(data, dict) or not data.get("access_token"):
        raise PayPalError(f"token: HTTP {response.status_code}")
    # Keep it a minute less than PayPal does, so it never expires between two calls.
    lifetime = int(data.get("expires_in") or 0) - 60
    if lifetime > 0:
        cache.set(key, data["access_token"], timeout=lifetime)
    return str(data["access_token"])


def _call(path: str, *, body: dict[str, Any], request_id: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {_token()}", "Content-Type": "application/json"}
    if request_id:
        headers["PayPal-Request-Id"] = request_id
    try:
        response = httpx.post(_api(path), json=body, headers=headers, timeout=TIMEOUT)
        data = response.json() if response.content else {}
    except (httpx.HTTPError, ValueError) as exc:
        raise PayPalError(f"{path}: {exc}") from exc
    return response.status_code, data


def _decimal_places(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


@dataclass(frozen=True)
class PayPalGateway(Gateway):
    def decimal_places(self, currency: str) -> int:
        return _decimal_places(currency)

    def checkout_create(self, *, payment: Payment, success_url: str, cancel_url: str) -> Checkout:
        places = _decimal_places(payment.currency)
        value = payment.payable.quantize(Decimal(1).scaleb(-places))
        body = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": str(payment.pk),
                    "custom_id": str(payment.pk),
                    "description": f"{settings.PANEL_NAME} balance top-up",
                    "amount": {"currency_code": payment.currency.upper(), "value": str(value)},
                }
            ],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "return_url": success_url,
                        "cancel_url": cancel_url,
                        "user_action": "PAY_NOW",
                        "shipping_preference": "NO_SHIPPING",
                    }
                }
            },
        }
        try:
            status, data = _call(
                "/v2/checkout/orders", body=body, request_id=f"upline-payment-{payment.pk}"
            )
        except PayPalError as exc:
            logger.warning("PayPal order for payment %s failed: %s", payment.pk, exc)
            raise GatewayUnavailable(str(exc)) from exc
        if status not in (200, 201) or not isinstance(data, dict) or not data.get("id"):
            raise GatewayUnavailable(f"PayPal answered HTTP {status}")
        links = [link for link in data.get("links") or [] if isinstance(link, dict)]
        url = next(
            (
                str(link.get("href"))
                for link in links
                if link.get("rel") in ("payer-action", "approve")
            ),
            "",
        )
        if not url.startswith("https://"):
            raise GatewayUnavailable("PayPal returned an order without an approval link")
        return Checkout(external_id=str(data["id"]), redirect_url=url)

    def customer_returned(self, *, payment: Payment) -> None:
        # PayPal appends ?token=<order id>; we capture the order we created, whatever it says.
        if payment.status == Payment.Status.PENDING and payment.external_id:
            paypal_order_capture(payment_id=payment.pk, order_id=payment.external_id)


def paypal_gateway() -> PayPalGateway | None:
    """The configured PayPal gateway, or None when its keys are not set."""
    if not (
        settings.PAYPAL_CLIENT_ID and settings.PAYPAL_CLIENT_SECRET and settings.PAYPAL_WEBHOOK_ID
    ):
        return None
    return PayPalGateway(
        code=CODE,
        name="PayPal",
        min_deposit=settings.PAYPAL_MIN_DEPOSIT,
        max_deposit=settings.PAYPAL_MAX_DEPOSIT,
        fee_percent=settings.PAYPAL_FEE_PERCENT,
    )


def _amount(value: object) -> tuple[Decimal, str] | None:
    if not isinstance(value, dict):
        return None
    try:
        amount = Decimal(str(value.get("value")))
    except InvalidOperation:
        return None
    currency = str(value.get("currency_code") or "").upper()
    if not amount.is_finite() or not currency:
        return None
    return money(amount), currency


def _capture_apply(*, payment_id: int, order_id: str, capture: dict[str, Any]) -> bool:
    """Credit a COMPLETED capture, fail a DECLINED one; a PENDING one waits for its webhook."""
    status = capture.get("status")
    if status == "COMPLETED":
        parsed = _amount(capture.get("amount"))
        if parsed is None:
            logger.error("PayPal capture for payment %s lacks an amount", payment_id)
            return False
        return payment_confirm(
            payment_id=payment_id,
            gateway=CODE,
            external_id=order_id,
            amount=parsed[0],
            currency=parsed[1],
        )
    if status in ("DECLINED", "FAILED"):
        payment_close(
            payment_id=payment_id,
            gateway=CODE,
            external_id=order_id,
            status=Payment.Status.FAILED,
            note=f"PayPal capture {capture.get('id', '')} {status}",
        )
    return False


def paypal_order_capture(*, payment_id: int, order_id: str) -> bool:
    """Capture the approved PayPal order of a pending payment and credit it when PayPal says
    the capture completed. Returns True when this call credited the balance.

    Safe to call twice (return page and webhook): the PayPal-Request-Id makes the second
    capture the same one, ORDER_ALREADY_CAPTURED is no error, and payment_confirm credits once.
    Network I/O: never call inside a transaction.
    """
    payment = Payment.objects.filter(pk=payment_id, gateway=CODE).first()
    if payment is None or payment.status != Payment.Status.PENDING:
        return False
    if payment.external_id and payment.external_id != order_id:
        logger.error("PayPal order %s is not payment %s's order", order_id, payment_id)
        return False
    try:
        status, data = _call(
            f"/v2/checkout/orders/{order_id}/capture",
            body={},
            request_id=f"upline-capture-{payment_id}",
        )
    except PayPalError as exc:
        # The webhook (CHECKOUT.ORDER.APPROVED, retried by PayPal) captures it later.
        logger.warning("PayPal capture of payment %s failed: %s", payment_id, exc)
        return False
    if status not in (200, 201) or not isinstance(data, dict):
        logger.warning("PayPal capture of payment %s: HTTP %s %s", payment_id, status, data)
        return False
    for unit in data.get("purchase_units") or []:
        if not isinstance(unit, dict) or str(unit.get("reference_id")) != str(payment_id):
            continue
        for capture in (unit.get("payments") or {}).get("captures") or []:
            if isinstance(capture, dict):
                return _capture_apply(payment_id=payment_id, order_id=order_id, capture=capture)
    logger.error("PayPal capture of payment %s answered no capture", payment_id)
    return False


def paypal_webhook_parse(*, payload: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """Verify a webhook with PayPal's verify-webhook-signature API and return the event.

    `headers` is the request's case-insensitive header mapping. Raises InvalidCallback for
    a missing header, a body that is not an event, or a signature PayPal does not confirm;
    GatewayUnavailable when PayPal cannot be asked (PayPal retries).
    """
    if not settings.PAYPAL_WEBHOOK_ID:
        raise InvalidCallback("PayPal webhooks are not configured")
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise InvalidCallback("The body is not JSON") from exc
    if not isinstance(event, dict) or not isinstance(event.get("resource"), dict):
        raise InvalidCallback("Not a PayPal event")
    fields = {name: headers.get(header, "") for name, header in WEBHOOK_HEADERS.items()}
    if not all(fields.values()):
        raise InvalidCallback("PayPal transmission headers are missing")
    try:
        status, data = _call(
            "/v1/notifications/verify-webhook-signature",
            body={**fields, "webhook_id": settings.PAYPAL_WEBHOOK_ID, "webhook_event": event},
        )
    except PayPalError as exc:
        raise GatewayUnavailable(str(exc)) from exc
    if status != 200 or not isinstance(data, dict):
        raise GatewayUnavailable(f"PayPal verification answered HTTP {status}")
    if data.get("verification_status") != "SUCCESS":
        raise InvalidCallback("PayPal did not verify the signature")
    return event


def _payment_id(value: object) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


def paypal_event_handle(*, event: dict[str, Any]) -> None:
    """Apply one verified event. Safe to repeat and to receive out of order."""
    event_type = event.get("event_type")
    resource = event["resource"]
    if event_type == "CHECKOUT.ORDER.APPROVED":
        units = [u for u in resource.get("purchase_units") or [] if isinstance(u, dict)]
        payment_id = (
            _payment_id(units[0].get("custom_id") or units[0].get("reference_id"))
            if units
            else None
        )
        order_id = str(resource.get("id") or "")
        if payment_id is not None and order_id:
            paypal_order_capture(payment_id=payment_id, order_id=order_id)
        return
    if event_type in (
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.DENIED",
        "PAYMENT.CAPTURE.DECLINED",
    ):
        payment_id = _payment_id(resource.get("custom_id"))
        related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
        order_id = str(related.get("order_id") or "")
        if payment_id is None or not order_id:
            logger.warning("PayPal event %s has no payment reference; ignored", event.get("id"))
            return
        capture = dict(resource)
        if event_type != "PAYMENT.CAPTURE.COMPLETED":
            capture["status"] = "DECLINED"
        _capture_apply(payment_id=payment_id, order_id=order_id, capture=capture)
