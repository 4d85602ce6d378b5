"""NOWPayments crypto invoices, faked at the HTTP layer from the documented payloads: the
invoice request, and IPN callbacks signed HMAC-SHA512 over the sorted-key JSON body."""

import hashlib
import hmac
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from django.test import Client

from accounts.models import DepositBonus, LedgerEntry, Payment, User
from accounts.payments import PaymentError, enabled_gateways, payment_start

pytestmark = pytest.mark.django_db

API = "https://api-sandbox.nowpayments.io/v1"
IPN_SECRET = "ipn-secret-test"
IPN_URL = "/payments/nowpayments/ipn/"


@pytest.fixture
def nowpayments(settings: Any) -> Iterator[respx.MockRouter]:
    settings.NOWPAYMENTS_API_KEY = "np-key"
    settings.NOWPAYMENTS_IPN_SECRET = IPN_SECRET
    settings.NOWPAYMENTS_API_URL = API
    settings.NOWPAYMENTS_MIN_DEPOSIT = Decimal("10")
    settings.NOWPAYMENTS_MAX_DEPOSIT = Decimal("1000")
    settings.NOWPAYMENTS_FEE_PERCENT = Decimal("0")
    settings.STRIPE_SECRET_KEY = ""
    settings.PANEL_CURRENCY = "USD"
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{API}/invoice").mock(
            return_value=httpx.Response(
                200,
                json={
                    "id": "4522625843",
                    "order_id": "1",
                    "price_amount": "25",
                    "price_currency": "usd",
                    "invoice_url": "https://nowpayments.io/payment/?iid=4522625843",
                    "created_at": "2026-12-01T18:00:00.000Z",
                },
            )
        )
        yield router


def sign(body: dict[str, Any], secret: str = IPN_SECRET) -> str:
    # As the NOWPayments docs show it: JSON.stringify of the body with sorted keys.
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha512).hexdigest()


def ipn(payment: Payment, status: str = "finished", **overrides: Any) -> dict[str, Any]:
    """An IPN body as documented (numbers as JSON numbers)."""
    return {
        "payment_id": 5077125051,
        "invoice_id": 4522625843,
        "payment_status": status,
        "pay_address": "0xd1cDE08A07cD25adEbEd35c3867a59228C09B606",
        "price_amount": float(payment.payable),
        "price_currency": "usd",
        "pay_amount": 0.000412,
        "actually_paid": 0.000412 if status in ("finished", "confirmed") else 0,
        "actually_paid_at_fiat": 0,
        "pay_currency": "btc",
        "order_id": str(payment.pk),
        "order_description": "Upline balance top-up",
        "purchase_id": "5837122679",
        "created_at": "2026-12-01T18:00:00.000Z",
        "updated_at": "2026-12-01T18:20:00.000Z",
        "outcome_amount": 0.0004,
        "outcome_currency": "btc",
        **overrides,
    }


def post_ipn(client: Client, body: dict[str, Any], signature: str | None = "sign") -> int:
    payload = json.dumps(body)
    headers = {}
    if signature == "sign":
        headers["x-nowpayments-sig"] = sign(body)
    elif signature is not None:
        headers["x-nowpayments-sig"] = signature
    response = client.post(IPN_URL, data=payload, content_type="application/json", headers=headers)
    return response.status_code


def credits(user: User) -> list[tuple[str, Decimal]]:
    return [
        (e.kind, e.amount)
        for e in LedgerEntry.objects.filter(user=user, payment__isnull=False).order_by("id")
    ]


@pytest.fixture
def payment(customer: User, nowpayments: respx.MockRouter) -> Payment:
    payment_start(user=customer, gateway="nowpayments", amount=Decimal("25.00"))
    return Payment.objects.get(user=customer)


def test_it_creates_an_invoice_for_the_payable_amount(customer, nowpayments, settings):
    settings.NOWPAYMENTS_FEE_PERCENT = Decimal("1.5")
    [gateway] = enabled_gateways()
    assert (gateway.code, gateway.min_deposit, gateway.fee_percent) == (
        "nowpayments",
        Decimal("10"),
        Decimal("1.5"),
    )
    url = payment_start(user=customer, gateway="nowpayments", amount=Decimal("25.00"))
    payment = Payment.objects.get(user=customer)
    assert url == "https://nowpayments.io/payment/?iid=4522625843"
    assert (payment.external_id, payment.amount, payment.fee) == (
        "4522625843",
        Decimal("25.00000"),
        Decimal("0.38000"),  # 1.5% of 25 = 0.375, rounded up to the cent
    )
    request = nowpayments.calls.last.request
    assert request.headers["x-api-key"] == "np-key"
    assert json.loads(request.content) == {
        "price_amount": 25.38,
        "price_currency": "usd",
        "order_id": str(payment.pk),
        "order_description": f"Upline balance top-up #{payment.pk}",
        "ipn_callback_url": "http://localhost:8000/payments/nowpayments/ipn/",
        "success_url": f"http://localhost:8000/payments/{payment.pk}/return/success/",
        "cancel_url": f"http://localhost:8000/payments/{payment.pk}/return/cancel/",
    }


def test_a_finished_ipn_credits_once_however_often_it_repeats(client, customer, payment):
    for status in ("waiting", "confirming", "finished", "finished", "finished"):
        assert post_ipn(client, ipn(payment, status)) == 200
    payment.refresh_from_db()
    customer.refresh_from_db()
    assert payment.status == "paid"
    assert credits(customer) == [("deposit", Decimal("25.00000"))]
    assert customer.balance == Decimal("125.00000")


def test_a_replayed_old_status_after_payment_changes_nothing(client, customer, payment):
    post_ipn(client, ipn(payment, "finished"))
    assert post_ipn(client, ipn(payment, "expired")) == 200
    assert post_ipn(client, ipn(payment, "failed")) == 200
    payment.refresh_from_db()
    assert payment.status == "paid"
    assert len(credits(customer)) == 1


@pytest.mark.parametrize("signature", [None, "", "00" * 64, "not-hex"])
def test_it_rejects_missing_or_forged_signatures(client, customer, payment, signature):
    assert post_ipn(client, ipn(payment), signature) == 400
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert credits(customer) == []


def test_it_rejects_a_body_signed_with_another_secret(client, customer, payment):
    body = ipn(payment)
    assert post_ipn(client, body, sign(body, "someone-elses-secret")) == 400
    # A signed body altered afterwards (a bigger amount) is forged too.
    tampered = {**body, "price_amount": 2500}
    assert post_ipn(client, tampered, sign(body)) == 400
    assert credits(customer) == []


def test_a_wrong_amount_is_never_credited(client, customer, payment):
    assert post_ipn(client, ipn(payment, price_amount=2.5)) == 200
    payment.refresh_from_db()
    assert (payment.status, payment.note) == (
        "failed",
        "Gateway confirmed 2.50000 USD, expected 25.00000 USD; not credited",
    )
    assert credits(customer) == []


def test_a_wrong_currency_is_never_credited(client, customer, payment):
    assert post_ipn(client, ipn(payment, price_currency="eur")) == 200
    payment.refresh_from_db()
    assert payment.status == "failed"
    assert credits(customer) == []


def test_an_ipn_for_another_invoice_is_ignored(client, customer, payment):
    assert post_ipn(client, ipn(payment, invoice_id=999)) == 200
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert credits(customer) == []


def test_a_callback_before_the_redirect_credits_once(client, customer, nowpayments):
    """The IPN can arrive while payment_start is still waiting for the invoice answer."""

    def invoice_then_ipn(request: httpx.Request) -> httpx.Response:
        payment = Payment.objects.get(user=customer)
        assert payment.external_id == ""  # not recorded yet
        assert post_ipn(client, ipn(payment)) == 200
        return httpx.Response(
            200,
            json={"id": "4522625843", "invoice_url": "https://nowpayments.io/payment/?iid=1"},
        )

    nowpayments.post(f"{API}/invoice").mock(side_effect=invoice_then_ipn)
    payment_start(user=customer, gateway="nowpayments", amount=Decimal("25.00"))
    payment = Payment.objects.get(user=customer)
    assert (payment.status, payment.external_id) == ("paid", "4522625843")
    client.force_login(customer)
    client.get(f"/payments/{payment.pk}/return/success/")
    post_ipn(client, ipn(payment))
    assert credits(customer) == [("deposit", Decimal("25.00000"))]


def test_a_partially_paid_invoice_credits_what_arrived(client, customer, payment):
    DepositBonus.objects.create(min_amount=Decimal("20"), percent=Decimal("10"))
    body = ipn(payment, "partially_paid", pay_amount=0.0004, actually_paid=0.0001)
    assert post_ipn(client, body) == 200
    post_ipn(client, body)
    post_ipn(client, ipn(payment, "finished"))  # too late: the payment is settled
    payment.refresh_from_db()
    assert (payment.status, payment.amount, payment.bonus) == (
        "paid",
        Decimal("6.25000"),
        Decimal("0.00000"),  # 6.25 is below the bonus threshold
    )
    assert payment.note.startswith("Partially paid: 0.0001 of 0.0004 btc")
    assert credits(customer) == [("deposit", Decimal("6.25000"))]


def test_an_over_paid_invoice_credits_the_invoice_and_notes_the_rest(client, customer, payment):
    assert (
        post_ipn(client, ipn(payment, "finished", pay_amount=0.0004, actually_paid=0.0005)) == 200
    )
    payment.refresh_from_db()
    assert payment.status == "paid"
    assert payment.note.startswith("Over-paid: 0.0005 of 0.0004 btc")
    assert credits(customer) == [("deposit", Decimal("25.00000"))]


def test_an_expired_invoice_closes_the_payment(client, customer, payment):
    assert post_ipn(client, ipn(payment, "expired")) == 200
    payment.refresh_from_db()
    assert payment.status == "expired"
    assert post_ipn(client, ipn(payment, "finished")) == 200
    payment.refresh_from_db()
    assert payment.status == "expired"
    assert credits(customer) == []


def test_it_fails_the_payment_when_nowpayments_is_unreachable(customer, nowpayments):
    nowpayments.post(f"{API}/invoice").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(PaymentError, match="could not be reached"):
        payment_start(user=customer, gateway="nowpayments", amount=Decimal("25.00"))
    assert Payment.objects.get(user=customer).status == "failed"


def test_it_fails_the_payment_when_nowpayments_refuses(customer, nowpayments):
    nowpayments.post(f"{API}/invoice").mock(
        return_value=httpx.Response(400, json={"status": False, "message": "Invalid api key"})
    )
    with pytest.raises(PaymentError):
        payment_start(user=customer, gateway="nowpayments", amount=Decimal("25.00"))
    assert Payment.objects.get(user=customer).status == "failed"


def test_a_non_json_ipn_is_rejected(client, payment):
    response = client.post(IPN_URL, data="nope", content_type="application/json")
    assert response.status_code == 400
