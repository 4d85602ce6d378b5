"""NOWPayments: crypto invoices (hosted page) and their signed IPN callbacks, over httpx.

Documented at https://documenter.getpostman.com/view/7907941/2s93JusNJt:
- POST {api}/invoice with the `x-api-key` header creates a hosted invoice; the answer carries
  its `id` and `invoice_url`. `order_id` is our Payment id, `price_amount`/`price_currency`
  what the customer pays in the panel's currency.
- Each status change is POSTed to `ipn_callback_url` as JSON with `x-nowpayments-sig`: the hex
  HMAC-SHA512, keyed with the IPN secret, of the body re-serialised with its keys sorted.
- `payment_status`: waiting → confirming → confirmed → sending → finished, or partially_paid,
  failed, expired, refunded. `finished` means the funds arrived; `partially_paid` means the
  customer sent less than `pay_amount` and the payment stops there; an over-payment still ends
  `finished` with `actually_paid` above `pay_amount`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from accounts.models import Payment
from accounts.payments.base import Checkout, Gateway, GatewayUnavailable, InvalidCallback
from accounts.payments.services import (
    payment_close,
    payment_confirm,
    payment_note,
    payment_reprice,
)
from panel.money import money, refund_amount

logger = logging.getLogger(__name__)

CODE = "nowpayments"
TIMEOUT = httpx.Timeout(20.0, connect=5.0)


@dataclass(frozen=True)
class NowPaymentsGateway(Gateway):
    api_key: str = ""
    api_url: str = ""

    def checkout_create(self, *, payment: Payment, success_url: str, cancel_url: str) -> Checkout:
        body = {
            # A JSON number, as documented. Why float is safe here: the amount has two
            # decimals, and Python writes such a float back as exactly those digits.
            "price_amount": float(payment.payable.quantize(Decimal("0.01"))),
            "price_currency": payment.currency.lower(),
            "order_id": str(payment.pk),
            "order_description": f"{settings.PANEL_NAME} balance top-up #{payment.pk}",
            "ipn_callback_url": settings.PANEL_BASE_URL.rstrip("/") + reverse("nowpayments_ipn"),
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        try:
            # One attempt, no retries: a second POST would create a second invoice.
            response = httpx.post(
                f"{self.api_url.rstrip('/')}/invoice",
                json=body,
                headers={"x-api-key": self.api_key},
                timeout=TIMEOUT,
            )
            data = response.json() if response.status_code < 500 else {}
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("NOWPayments invoice for payment %s failed: %s", payment.pk, exc)
            raise GatewayUnavailable(str(exc)) from exc
        if response.status_code >= 300 or not isinstance(data, dict):
            raise GatewayUnavailable(f"NOWPayments answered HTTP {response.status_code}")
        invoice_id, url = str(data.get("id") or ""), str(data.get("invoice_url") or "")
        if not invoice_id or not url.startswith("https://"):
            raise GatewayUnavailable("NOWPayments returned an invoice without an id or URL")
        return Checkout(external_id=invoice_id, redirect_url=url)


def nowpayments_gateway() -> NowPaymentsGateway | None:
    """The configured NOWPayments gateway, or None when its keys are not set."""
    if not (settings.NOWPAYMENTS_API_KEY and settings.NOWPAYMENTS_IPN_SECRET):
        return None
    return NowPaymentsGateway(
        code=CODE,
        name=gettext("Crypto (NOWPayments)"),
        min_deposit=settings.NOWPAYMENTS_MIN_DEPOSIT,
        max_deposit=settings.NOWPAYMENTS_MAX_DEPOSIT,
        fee_percent=settings.NOWPAYMENTS_FEE_PERCENT,
        api_key=settings.NOWPAYMENTS_API_KEY,
        api_url=settings.NOWPAYMENTS_API_URL,
    )


def ipn_signature(body: dict[str, Any], secret: str) -> str:
    """The x-nowpayments-sig of a parsed IPN body: HMAC-SHA512 of its sorted-key JSON.

    Why re-serialise: the signature covers JSON.stringify of the sorted body on their side,
    not the bytes on the wire; compact separators and unescaped UTF-8 match that output.
    """
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha512).hexdigest()


def nowpayments_ipn_parse(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    """Verify the IPN's signature and return its body. Raises InvalidCallback."""
    secret = settings.NOWPAYMENTS_IPN_SECRET
    if not secret:
        raise InvalidCallback("NOWPayments is not configured")
    try:
        body = json.loads(payload)
    except ValueError as exc:
        raise InvalidCallback("The body is not JSON") from exc
    if not isinstance(body, dict):
        raise InvalidCallback("The body is not a JSON object")
    if not signature or not hmac.compare_digest(ipn_signature(body, secret), signature.lower()):
        raise InvalidCallback("Bad x-nowpayments-sig")
    return body


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        # str() first: never Decimal(float), which would carry the float's binary error.
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def nowpayments_ipn_handle(*, body: dict[str, Any]) -> None:
    """Apply one verified IPN. Safe to repeat and to receive out of order: only a pending
    payment moves, and payment_confirm credits it once."""
    reference = str(body.get("order_id") or "")
    invoice_id = str(body.get("invoice_id") or "")
    status = str(body.get("payment_status") or "")
    if not reference.isdigit() or not invoice_id:
        logger.warning("NOWPayments IPN without our order id or an invoice id; ignored")
        return
    payment_id = int(reference)
    if status == "finished":
        _settle(payment_id, invoice_id, body, partial=False)
    elif status == "partially_paid":
        _settle(payment_id, invoice_id, body, partial=True)
    elif status in ("failed", "expired", "refunded"):
        payment_close(
            payment_id=payment_id,
            gateway=CODE,
            external_id=invoice_id,
            status=Payment.Status.EXPIRED if status == "expired" else Payment.Status.FAILED,
            note=f"NOWPayments payment {body.get('payment_id')} {status}",
        )
    # waiting / confirming / confirmed / sending: the money is not ours yet.


def _settle(payment_id: int, invoice_id: str, body: dict[str, Any], *, partial: bool) -> None:
    price = _decimal(body.get("price_amount"))
    currency = str(body.get("price_currency") or "").upper()
    pay_amount = _decimal(body.get("pay_amount"))
    paid = _decimal(body.get("actually_paid"))
    if price is None or not currency:
        logger.error("NOWPayments IPN for payment %s lacks price_amount/currency", payment_id)
        return
    price = money(price)
    ratio = paid / pay_amount if paid is not None and pay_amount else None
    if partial:
        # An under-paid invoice stops at partially_paid: credit what arrived, in proportion
        # (rounded down), and never the price. A later IPN finds the payment settled.
        if ratio is None or not 0 < ratio < 1:
            logger.error("NOWPayments partial payment %s without a usable ratio", payment_id)
            return
        received = refund_amount(price * ratio)
        note = (
            f"Partially paid: {paid} of {pay_amount} {body.get('pay_currency', '')}".strip()
            + f"; credited {received} of {price} {currency}"
        )
        payment = Payment.objects.filter(pk=payment_id, gateway=CODE).first()
        if payment is None or price != payment.payable or currency != payment.currency.upper():
            # Let payment_confirm refuse it with its note (wrong amount or currency).
            payment_confirm(
                payment_id=payment_id,
                gateway=CODE,
                external_id=invoice_id,
                amount=price,
                currency=currency,
            )
            return
        if received <= 0 or not payment_reprice(
            payment_id=payment_id, gateway=CODE, amount=received, note=note
        ):
            return
        price = received
    credited = payment_confirm(
        payment_id=payment_id, gateway=CODE, external_id=invoice_id, amount=price, currency=currency
    )
    if credited and ratio is not None and ratio > 1:
        # Over-paid: NOWPayments still says finished; we credit the invoice, staff see the rest.
        payment_note(
            payment_id=payment_id,
            note=f"Over-paid: {paid} of {pay_amount} {body.get('pay_currency', '')}; "
            f"credited the invoice amount {price} {currency}",
        )
