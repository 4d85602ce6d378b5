from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from accounts.models import DepositBonus, LedgerEntry, Payment, User
from accounts.payments import PaymentError, enabled_gateways, payment_start
from tests.accounts.conftest import STRIPE_SESSIONS_URL

pytestmark = pytest.mark.django_db


def test_it_hides_gateways_that_are_not_configured(settings: object) -> None:
    settings.STRIPE_SECRET_KEY = ""  # type: ignore[attr-defined]
    assert enabled_gateways() == []


def test_it_lists_stripe_with_its_limits_when_configured(stripe_enabled: None) -> None:
    [gateway] = enabled_gateways()

    assert (gateway.code, gateway.name, gateway.min_deposit, gateway.max_deposit) == (
        "stripe",
        "Card (Stripe)",
        Decimal("5.00"),
        Decimal("1000.00"),
    )
    assert gateway.fee_percent == Decimal("0")


def test_it_starts_a_checkout_session_for_a_pending_payment(
    customer: User, stripe_api: respx.MockRouter
) -> None:
    url = payment_start(user=customer, gateway="stripe", amount=Decimal("25.00"))

    assert url == "https://checkout.stripe.com/c/pay/cs_test_1"
    payment = Payment.objects.get(user=customer)
    assert (payment.gateway, payment.amount, payment.bonus, payment.currency) == (
        "stripe",
        Decimal("25.00000"),
        Decimal("0.00000"),
        "USD",
    )
    assert (payment.status, payment.external_id) == ("pending", "cs_test_1")
    request = stripe_api.calls.last.request
    assert request.headers["Idempotency-Key"] == f"upline-payment-{payment.pk}"
    assert request.headers["Authorization"] == "Bearer sk_test_123"
    form = {key: values[0] for key, values in parse_qs(request.content.decode()).items()}
    assert form["mode"] == "payment"
    assert form["client_reference_id"] == str(payment.pk)
    assert form["line_items[0][price_data][unit_amount]"] == "2500"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["success_url"] == f"http://localhost:8000/payments/{payment.pk}/return/success/"
    assert form["cancel_url"] == f"http://localhost:8000/payments/{payment.pk}/return/cancel/"
    # Nothing is credited until Stripe confirms the payment.
    customer.refresh_from_db()
    assert customer.balance == Decimal("100.00000")


def test_it_fixes_the_bonus_when_the_payment_starts(
    customer: User, stripe_api: respx.MockRouter
) -> None:
    DepositBonus.objects.create(min_amount=Decimal("10"), percent=Decimal("7.5"))

    payment_start(user=customer, gateway="stripe", amount=Decimal("10.01"))
    DepositBonus.objects.update(percent=Decimal("50"))  # later rule changes do not apply

    assert Payment.objects.get(user=customer).bonus == Decimal("0.75075")


def test_it_uses_the_given_base_url(customer: User, stripe_api: respx.MockRouter) -> None:
    payment_start(
        user=customer, gateway="stripe", amount=Decimal("25"), base_url="https://panel.test/"
    )

    form = parse_qs(stripe_api.calls.last.request.content.decode())
    assert form["success_url"][0].startswith("https://panel.test/payments/")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("4.99", "The minimum deposit is 5.00 USD."),
        ("1000.01", "The maximum deposit is 1000.00 USD."),
        ("10.001", "The amount can have at most 2 decimal places."),
        ("0", "Enter an amount greater than zero."),
        ("-5", "Enter an amount greater than zero."),
        ("NaN", "Enter an amount greater than zero."),
        ("abc", "Enter the amount as a number, e.g. 25.00."),
    ],
)
def test_it_rejects_bad_amounts_without_writing(
    customer: User, stripe_api: respx.MockRouter, amount: str, message: str
) -> None:
    with pytest.raises(PaymentError) as excinfo:
        payment_start(user=customer, gateway="stripe", amount=amount)  # type: ignore[arg-type]

    assert excinfo.value.message == message
    assert not Payment.objects.exists()
    assert not stripe_api.calls


def test_it_rejects_a_disabled_gateway(customer: User, settings: object) -> None:
    settings.STRIPE_SECRET_KEY = ""  # type: ignore[attr-defined]

    with pytest.raises(PaymentError, match="This payment method is not available"):
        payment_start(user=customer, gateway="stripe", amount=Decimal("25"))
    with pytest.raises(PaymentError, match="This payment method is not available"):
        payment_start(user=customer, gateway="paypal", amount=Decimal("25"))
    assert not Payment.objects.exists()


def test_it_fails_the_payment_when_stripe_refuses(
    customer: User, stripe_api: respx.MockRouter
) -> None:
    stripe_api.post(STRIPE_SESSIONS_URL).mock(
        return_value=httpx.Response(
            400, json={"error": {"type": "invalid_request_error", "message": "Bad currency"}}
        )
    )

    with pytest.raises(PaymentError, match="could not be reached"):
        payment_start(user=customer, gateway="stripe", amount=Decimal("25"))

    payment = Payment.objects.get(user=customer)
    assert payment.status == "failed"
    assert "Bad currency" in payment.note
    assert not LedgerEntry.objects.filter(payment=payment).exists()


def test_it_fails_the_payment_when_stripe_is_unreachable(
    customer: User, stripe_api: respx.MockRouter
) -> None:
    stripe_api.post(STRIPE_SESSIONS_URL).mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(PaymentError, match="could not be reached"):
        payment_start(user=customer, gateway="stripe", amount=Decimal("25"))

    assert Payment.objects.get(user=customer).status == "failed"
