import time
from decimal import Decimal

import pytest
import respx
from django.test import Client

from accounts.models import DepositBonus, LedgerEntry, Payment, User
from accounts.payments import payment_start
from tests.accounts.helpers import checkout_event, stripe_signature

pytestmark = pytest.mark.django_db

WEBHOOK_URL = "/payments/stripe/webhook/"


@pytest.fixture
def payment(customer: User, stripe_api: respx.MockRouter) -> Payment:
    payment_start(user=customer, gateway="stripe", amount=Decimal("25.00"))
    return Payment.objects.get(user=customer)


def post_event(client: Client, payload: str, signature: str | None = None) -> tuple[int, bytes]:
    headers = {} if signature is None else {"Stripe-Signature": signature}
    response = client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", headers=headers
    )
    return response.status_code, response.content


def deposits(user: User) -> list[tuple[str, Decimal, Decimal]]:
    return [
        (e.kind, e.amount, e.balance_after)
        for e in LedgerEntry.objects.filter(user=user, payment__isnull=False).order_by("id")
    ]


def test_it_credits_a_paid_checkout_once(client: Client, customer: User, payment: Payment) -> None:
    payload = checkout_event("checkout.session.completed", payment_id=payment.pk)

    assert post_event(client, payload, stripe_signature(payload)) == (200, b"OK")

    payment.refresh_from_db()
    customer.refresh_from_db()
    assert (payment.status, payment.external_id) == ("paid", "cs_test_1")
    assert customer.balance == Decimal("125.00000")
    assert deposits(customer) == [("deposit", Decimal("25.00000"), Decimal("125.00000"))]


def test_it_never_credits_a_replayed_event_twice(
    client: Client, customer: User, payment: Payment
) -> None:
    payload = checkout_event("checkout.session.completed", payment_id=payment.pk)
    for _ in range(3):
        assert post_event(client, payload, stripe_signature(payload)) == (200, b"OK")
    # The same confirmation again, as the async-success event with another event id.
    again = checkout_event(
        "checkout.session.async_payment_succeeded", payment_id=payment.pk, event_id="evt_2"
    )
    assert post_event(client, again, stripe_signature(again)) == (200, b"OK")

    customer.refresh_from_db()
    assert customer.balance == Decimal("125.00000")
    assert len(deposits(customer)) == 1


def test_it_credits_the_bonus_as_its_own_entry(
    client: Client, customer: User, stripe_api: respx.MockRouter
) -> None:
    DepositBonus.objects.create(min_amount=Decimal("20"), percent=Decimal("10"))
    payment_start(user=customer, gateway="stripe", amount=Decimal("25.00"))
    payment = Payment.objects.get(user=customer)
    payload = checkout_event("checkout.session.completed", payment_id=payment.pk)

    post_event(client, payload, stripe_signature(payload))
    post_event(client, payload, stripe_signature(payload))

    customer.refresh_from_db()
    assert customer.balance == Decimal("127.50000")
    assert deposits(customer) == [
        ("deposit", Decimal("25.00000"), Decimal("125.00000")),
        ("bonus", Decimal("2.50000"), Decimal("127.50000")),
    ]


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=123,v1=deadbeef",
        "garbage",
    ],
)
def test_it_rejects_missing_or_forged_signatures(
    client: Client, customer: User, payment: Payment, signature: str | None
) -> None:
    payload = checkout_event("checkout.session.completed", payment_id=payment.pk)

    assert post_event(client, payload, signature) == (
        400,
        b"Invalid webhook signature or payload.",
    )
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert deposits(customer) == []


def test_it_rejects_a_payload_signed_with_another_secret(
    client: Client, customer: User, payment: Payment
) -> None:
    payload = checkout_event("checkout.session.completed", payment_id=payment.pk)

    status, _ = post_event(client, payload, stripe_signature(payload, secret="whsec_other"))

    assert status == 400
    assert deposits(customer) == []


def test_it_rejects_a_tampered_body(client: Client, customer: User, payment: Payment) -> None:
    signed = checkout_event("checkout.session.completed", payment_id=payment.pk)
    tampered = checkout_event(
        "checkout.session.completed", payment_id=payment.pk, amount_total=2_500_000
    )

    status, _ = post_event(client, tampered, stripe_signature(signed))

    assert status == 400
    assert deposits(customer) == []


def test_it_rejects_an_old_signature(client: Client, customer: User, payment: Payment) -> None:
    payload = checkout_event("checkout.session.completed", payment_id=payment.pk)

    status, _ = post_event(client, payload, stripe_signature(payload, at=int(time.time()) - 3600))

    assert status == 400
    assert deposits(customer) == []


def test_it_rejects_webhooks_when_stripe_is_not_configured(
    client: Client, settings: object
) -> None:
    settings.STRIPE_WEBHOOK_SECRET = ""  # type: ignore[attr-defined]
    payload = checkout_event("checkout.session.completed", payment_id=1)

    status, _ = post_event(client, payload, stripe_signature(payload))

    assert status == 400


def test_it_rejects_a_signed_body_that_is_not_json(client: Client, stripe_enabled: None) -> None:
    status, _ = post_event(client, "not json", stripe_signature("not json"))

    assert status == 400


def test_it_refuses_gets(client: Client, stripe_enabled: None) -> None:
    assert client.get(WEBHOOK_URL).status_code == 405


@pytest.mark.parametrize(
    ("amount_total", "currency", "note"),
    [
        (2499, "usd", "Gateway confirmed 24.99000 USD, expected 25.00000 USD; not credited"),
        (2500, "eur", "Gateway confirmed 25.00000 EUR, expected 25.00000 USD; not credited"),
    ],
)
def test_it_never_credits_a_mismatched_amount_or_currency(
    client: Client,
    customer: User,
    payment: Payment,
    amount_total: int,
    currency: str,
    note: str,
) -> None:
    payload = checkout_event(
        "checkout.session.completed",
        payment_id=payment.pk,
        amount_total=amount_total,
        currency=currency,
    )

    assert post_event(client, payload, stripe_signature(payload)) == (200, b"OK")

    payment.refresh_from_db()
    customer.refresh_from_db()
    assert (payment.status, payment.note) == ("failed", note)
    assert customer.balance == Decimal("100.00000")
    assert deposits(customer) == []


def test_it_ignores_a_confirmation_for_another_session(
    client: Client, customer: User, payment: Payment
) -> None:
    payload = checkout_event(
        "checkout.session.completed", payment_id=payment.pk, session_id="cs_test_other"
    )

    assert post_event(client, payload, stripe_signature(payload)) == (200, b"OK")

    payment.refresh_from_db()
    assert payment.status == "pending"
    assert deposits(customer) == []


def test_it_ignores_unknown_payments_and_other_events(
    client: Client, customer: User, payment: Payment
) -> None:
    unknown = checkout_event("checkout.session.completed", payment_id=payment.pk + 1000)
    other = checkout_event("customer.created", payment_id=payment.pk)

    assert post_event(client, unknown, stripe_signature(unknown)) == (200, b"OK")
    assert post_event(client, other, stripe_signature(other)) == (200, b"OK")

    payment.refresh_from_db()
    assert payment.status == "pending"
    assert deposits(customer) == []


def test_it_waits_for_delayed_payment_methods(
    client: Client, customer: User, payment: Payment
) -> None:
    completed = checkout_event(
        "checkout.session.completed", payment_id=payment.pk, payment_status="unpaid"
    )
    post_event(client, completed, stripe_signature(completed))
    payment.refresh_from_db()
    assert payment.status == "pending"

    succeeded = checkout_event(
        "checkout.session.async_payment_succeeded", payment_id=payment.pk, event_id="evt_2"
    )
    post_event(client, succeeded, stripe_signature(succeeded))

    payment.refresh_from_db()
    customer.refresh_from_db()
    assert payment.status == "paid"
    assert customer.balance == Decimal("125.00000")


def test_it_keeps_a_paid_payment_paid_when_a_late_failure_arrives(
    client: Client, customer: User, payment: Payment
) -> None:
    paid = checkout_event("checkout.session.async_payment_succeeded", payment_id=payment.pk)
    failed = checkout_event(
        "checkout.session.async_payment_failed", payment_id=payment.pk, event_id="evt_2"
    )
    expired = checkout_event("checkout.session.expired", payment_id=payment.pk, event_id="evt_3")

    for payload in (paid, failed, expired, paid):
        assert post_event(client, payload, stripe_signature(payload)) == (200, b"OK")

    payment.refresh_from_db()
    customer.refresh_from_db()
    assert payment.status == "paid"
    assert customer.balance == Decimal("125.00000")
    assert len(deposits(customer)) == 1


def test_it_never_credits_an_expired_session_seen_late(
    client: Client, customer: User, payment: Payment
) -> None:
    expired = checkout_event("checkout.session.expired", payment_id=payment.pk)
    paid = checkout_event("checkout.session.completed", payment_id=payment.pk, event_id="evt_2")

    post_event(client, expired, stripe_signature(expired))
    post_event(client, paid, stripe_signature(paid))

    payment.refresh_from_db()
    assert (payment.status, payment.note) == ("expired", "The checkout session expired")
    assert deposits(customer) == []


def test_it_marks_a_failed_delayed_payment(
    client: Client, customer: User, payment: Payment
) -> None:
    failed = checkout_event("checkout.session.async_payment_failed", payment_id=payment.pk)

    post_event(client, failed, stripe_signature(failed))

    payment.refresh_from_db()
    assert (payment.status, payment.note) == ("failed", "The payment method was declined")
    assert deposits(customer) == []
