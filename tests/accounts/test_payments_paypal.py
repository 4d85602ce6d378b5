"""PayPal Checkout (orders API v2), faked at the HTTP layer from the documented payloads: the
OAuth token, order create, capture, and webhooks verified through verify-webhook-signature."""

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from django.test import Client

from accounts.models import LedgerEntry, Payment, User
from accounts.payments import enabled_gateways, payment_start

pytestmark = pytest.mark.django_db

API = "https://api-m.sandbox.paypal.com"
WEBHOOK_URL = "/payments/paypal/webhook/"
ORDER_ID = "5O190127TN364715T"
HEADERS = {
    "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    "PAYPAL-CERT-URL": "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42",
    "PAYPAL-TRANSMISSION-ID": "69cd13f0-d67a-11e5-baa3-778b53f4ae55",
    "PAYPAL-TRANSMISSION-SIG": "lmI95Jx3Y9nhR5SJWlHVIWpg4AgFk7n9bCHSRxbrd8A9zrhdu2rMyFrmz+Zjh3s3b",
    "PAYPAL-TRANSMISSION-TIME": "2026-12-01T18:20:35Z",
}


def capture_body(
    payment: Payment, *, value: str, currency: str = "USD", status: str = "COMPLETED"
) -> dict[str, Any]:
    return {
        "id": ORDER_ID,
        "status": "COMPLETED",
        "purchase_units": [
            {
                "reference_id": str(payment.pk),
                "payments": {
                    "captures": [
                        {
                            "id": "3C679366HH908993F",
                            "status": status,
                            "amount": {"currency_code": currency, "value": value},
                            "custom_id": str(payment.pk),
                            "final_capture": True,
                        }
                    ]
                },
            }
        ],
    }


@pytest.fixture
def paypal(settings: Any) -> Iterator[respx.MockRouter]:
    settings.PAYPAL_CLIENT_ID = "client-id"
    settings.PAYPAL_CLIENT_SECRET = "client-secret"
    settings.PAYPAL_WEBHOOK_ID = "1JE4291016473214C"
    settings.PAYPAL_API_URL = API
    settings.PAYPAL_MIN_DEPOSIT = Decimal("5")
    settings.PAYPAL_MAX_DEPOSIT = Decimal("1000")
    settings.PAYPAL_FEE_PERCENT = Decimal("0")
    settings.STRIPE_SECRET_KEY = ""
    settings.NOWPAYMENTS_API_KEY = ""
    settings.PANEL_CURRENCY = "USD"
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{API}/v1/oauth2/token").mock(
            return_value=httpx.Response(
                200,
                json={"access_token": "A21AAF", "token_type": "Bearer", "expires_in": 32400},
            )
        )
        router.post(f"{API}/v2/checkout/orders").mock(
            return_value=httpx.Response(
                200,
                json={
                    "id": ORDER_ID,
                    "status": "PAYER_ACTION_REQUIRED",
                    "links": [
                        {
                            "href": f"{API}/v2/checkout/orders/{ORDER_ID}",
                            "rel": "self",
                            "method": "GET",
                        },
                        {
                            "href": f"https://www.sandbox.paypal.com/checkoutnow?token={ORDER_ID}",
                            "rel": "payer-action",
                            "method": "GET",
                        },
                    ],
                },
            )
        )
        router.post(f"{API}/v1/notifications/verify-webhook-signature").mock(
            return_value=httpx.Response(200, json={"verification_status": "SUCCESS"})
        )
        yield router


@pytest.fixture
def payment(customer: User, paypal: respx.MockRouter) -> Payment:
    payment_start(user=customer, gateway="paypal", amount=Decimal("25.00"))
    return Payment.objects.get(user=customer)


def mock_capture(router: respx.MockRouter, payment: Payment, **kwargs: Any) -> respx.Route:
    return router.post(f"{API}/v2/checkout/orders/{ORDER_ID}/capture").mock(
        return_value=httpx.Response(201, json=capture_body(payment, **kwargs))
    )


def capture_completed_event(
    payment: Payment, *, value: str = "25.00", currency: str = "USD"
) -> dict[str, Any]:
    return {
        "id": "WH-58D329510W468432D-8HN650336L201105X",
        "event_version": "1.0",
        "create_time": "2026-12-01T18:20:35.000Z",
        "resource_type": "capture",
        "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "summary": "Payment completed for $ 25.0 USD",
        "resource": {
            "id": "3C679366HH908993F",
            "status": "COMPLETED",
            "amount": {"currency_code": currency, "value": value},
            "custom_id": str(payment.pk),
            "supplementary_data": {"related_ids": {"order_id": ORDER_ID}},
        },
    }


def order_approved_event(payment: Payment) -> dict[str, Any]:
    return {
        "id": "WH-COC11055RA711503B-4YM959094A144403T",
        "event_type": "CHECKOUT.ORDER.APPROVED",
        "resource_type": "checkout-order",
        "resource": {
            "id": ORDER_ID,
            "status": "APPROVED",
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": str(payment.pk),
                    "custom_id": str(payment.pk),
                    "amount": {"currency_code": "USD", "value": "25.00"},
                }
            ],
        },
    }


def post_event(client: Client, event: dict[str, Any], headers: dict[str, str] = HEADERS) -> int:
    response = client.post(
        WEBHOOK_URL, data=json.dumps(event), content_type="application/json", headers=headers
    )
    return response.status_code


def credits(user: User) -> list[tuple[str, Decimal]]:
    return [
        (e.kind, e.amount)
        for e in LedgerEntry.objects.filter(user=user, payment__isnull=False).order_by("id")
    ]


def test_it_creates_an_order_and_sends_the_customer_to_approve_it(customer, paypal):
    [gateway] = enabled_gateways()
    assert (gateway.code, gateway.name) == ("paypal", "PayPal")
    url = payment_start(user=customer, gateway="paypal", amount=Decimal("25.00"))
    payment = Payment.objects.get(user=customer)
    assert url == f"https://www.sandbox.paypal.com/checkoutnow?token={ORDER_ID}"
    assert payment.external_id == ORDER_ID
    request = paypal.calls.last.request
    assert request.headers["Authorization"] == "Bearer A21AAF"
    assert request.headers["PayPal-Request-Id"] == f"upline-payment-{payment.pk}"
    body = json.loads(request.content)
    assert body["intent"] == "CAPTURE"
    assert body["purchase_units"] == [
        {
            "reference_id": str(payment.pk),
            "custom_id": str(payment.pk),
            "description": "Upline balance top-up",
            "amount": {"currency_code": "USD", "value": "25.00"},
        }
    ]
    assert body["payment_source"]["paypal"]["experience_context"]["return_url"] == (
        f"http://localhost:8000/payments/{payment.pk}/return/success/"
    )


def test_returning_captures_and_credits_once(client, customer, payment, paypal):
    capture = mock_capture(paypal, payment, value="25.00")
    client.force_login(customer)
    client.get(f"/payments/{payment.pk}/return/success/?token={ORDER_ID}&PayerID=X")
    client.get(f"/payments/{payment.pk}/return/success/?token={ORDER_ID}&PayerID=X")
    # The webhook for the same capture arrives too.
    assert post_event(client, capture_completed_event(payment)) == 200
    assert capture.call_count == 1
    assert capture.calls.last.request.headers["PayPal-Request-Id"] == f"upline-capture-{payment.pk}"
    payment.refresh_from_db()
    assert payment.status == "paid"
    assert credits(customer) == [("deposit", Decimal("25.00000"))]


def test_an_approved_order_webhook_captures_when_the_customer_never_returns(
    client, customer, payment, paypal
):
    mock_capture(paypal, payment, value="25.00")
    assert post_event(client, order_approved_event(payment)) == 200
    assert post_event(client, order_approved_event(payment)) == 200
    payment.refresh_from_db()
    assert payment.status == "paid"
    assert credits(customer) == [("deposit", Decimal("25.00000"))]


def test_a_capture_webhook_before_the_redirect_credits_once(client, customer, payment, paypal):
    capture = mock_capture(paypal, payment, value="25.00")
    assert post_event(client, capture_completed_event(payment)) == 200
    client.force_login(customer)
    client.get(f"/payments/{payment.pk}/return/success/?token={ORDER_ID}")
    assert capture.call_count == 0  # already paid: nothing to capture
    assert credits(customer) == [("deposit", Decimal("25.00000"))]


def test_a_replayed_webhook_credits_nothing_more(client, customer, payment):
    event = capture_completed_event(payment)
    for _ in range(3):
        assert post_event(client, event) == 200
    assert credits(customer) == [("deposit", Decimal("25.00000"))]


def test_a_forged_webhook_is_rejected(client, customer, payment, paypal):
    paypal.post(f"{API}/v1/notifications/verify-webhook-signature").mock(
        return_value=httpx.Response(200, json={"verification_status": "FAILURE"})
    )
    assert post_event(client, capture_completed_event(payment)) == 400
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert credits(customer) == []


def test_the_verification_request_carries_the_headers_and_our_webhook_id(client, payment, paypal):
    event = capture_completed_event(payment)
    post_event(client, event)
    verify = paypal.routes[2].calls.last.request
    assert json.loads(verify.content) == {
        "auth_algo": "SHA256withRSA",
        "cert_url": HEADERS["PAYPAL-CERT-URL"],
        "transmission_id": HEADERS["PAYPAL-TRANSMISSION-ID"],
        "transmission_sig": HEADERS["PAYPAL-TRANSMISSION-SIG"],
        "transmission_time": HEADERS["PAYPAL-TRANSMISSION-TIME"],
        "webhook_id": "1JE4291016473214C",
        "webhook_event": event,
    }


def test_a_webhook_without_transmission_headers_is_rejected_unasked(
    client, customer, payment, paypal
):
    assert post_event(client, capture_completed_event(payment), headers={}) == 400
    assert paypal.routes[2].call_count == 0
    assert credits(customer) == []


def test_an_unverifiable_webhook_asks_paypal_to_retry(client, customer, payment, paypal):
    paypal.post(f"{API}/v1/notifications/verify-webhook-signature").mock(
        side_effect=httpx.ConnectError("refused")
    )
    assert post_event(client, capture_completed_event(payment)) == 503
    assert credits(customer) == []


def test_a_wrong_amount_is_never_credited(client, customer, payment):
    assert post_event(client, capture_completed_event(payment, value="2.50")) == 200
    payment.refresh_from_db()
    assert payment.status == "failed"
    assert credits(customer) == []


def test_a_wrong_currency_is_never_credited(client, customer, payment, paypal):
    mock_capture(paypal, payment, value="25.00", currency="EUR")
    client.force_login(customer)
    client.get(f"/payments/{payment.pk}/return/success/?token={ORDER_ID}")
    payment.refresh_from_db()
    assert payment.status == "failed"
    assert credits(customer) == []


def test_a_pending_capture_waits_for_its_webhook(client, customer, payment, paypal):
    mock_capture(paypal, payment, value="25.00", status="PENDING")
    client.force_login(customer)
    client.get(f"/payments/{payment.pk}/return/success/?token={ORDER_ID}")
    payment.refresh_from_db()
    assert payment.status == "pending"
    post_event(client, capture_completed_event(payment))
    assert credits(customer) == [("deposit", Decimal("25.00000"))]


def test_a_denied_capture_fails_the_payment(client, customer, payment):
    event = capture_completed_event(payment)
    event["event_type"] = "PAYMENT.CAPTURE.DENIED"
    event["resource"]["status"] = "DECLINED"
    assert post_event(client, event) == 200
    payment.refresh_from_db()
    assert payment.status == "failed"
    assert post_event(client, capture_completed_event(payment)) == 200
    assert credits(customer) == []


def test_a_webhook_for_another_order_is_ignored(client, customer, payment):
    event = capture_completed_event(payment)
    event["resource"]["supplementary_data"]["related_ids"]["order_id"] = "OTHER"
    assert post_event(client, event) == 200
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert credits(customer) == []
