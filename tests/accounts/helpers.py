"""Helpers for the accounts tests: Stripe webhooks signed like Stripe does, and fixtures' data."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

from accounts.models import User
from orders.models import Order
from tests.factories import ServiceFactory

WEBHOOK_SECRET = "whsec_test_secret"


def make_order(user: User) -> Order:
    service = ServiceFactory()
    return Order.objects.create(
        user=user,
        service=service,
        provider=service.provider,
        upstream_service_id=service.upstream_id,
        type="Default",
        link="https://instagram.com/x",
        quantity=100,
        rate=Decimal("1.3"),
        charge=Decimal("0.13"),
    )


def stripe_signature(payload: str, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send: t=<unix>,v1=HMAC-SHA256(secret, "t.body")."""
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def checkout_event(
    event_type: str,
    *,
    payment_id: int,
    session_id: str = "cs_test_1",
    amount_total: int = 2500,
    currency: str = "usd",
    payment_status: str = "paid",
    event_id: str = "evt_1",
) -> str:
    session: dict[str, Any] = {
        "id": session_id,
        "object": "checkout.session",
        "amount_total": amount_total,
        "currency": currency,
        "client_reference_id": str(payment_id),
        "metadata": {"payment_id": str(payment_id)},
        "mode": "payment",
        "payment_status": payment_status,
        "status": "complete" if event_type != "checkout.session.expired" else "expired",
    }
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": session},
        }
    )
