"""Deposit bonus rules and method fees: one definition applied to every payment method."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import DepositBonus, ManualMethod
from accounts.payments.bonus import deposit_bonus, method_fee

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(db: None) -> None:
    DepositBonus.objects.create(min_amount=Decimal("100"), percent=Decimal("5"))
    DepositBonus.objects.create(min_amount=Decimal("500"), percent=Decimal("10"))
    DepositBonus.objects.create(min_amount=Decimal("50"), percent=Decimal("50"), is_enabled=False)


@pytest.mark.parametrize(
    ("amount", "bonus"),
    [
        ("99.99", "0.00000"),
        ("100.00", "5.00000"),
        ("499.99", "24.99950"),
        ("500.00", "50.00000"),
        ("100.01", "5.00050"),
    ],
)
def test_the_highest_reached_rule_applies(rules, amount, bonus):
    assert deposit_bonus(Decimal(amount)) == Decimal(bonus)


def test_bonuses_round_down(db):
    DepositBonus.objects.create(min_amount=Decimal("0"), percent=Decimal("3.33"))
    assert deposit_bonus(Decimal("10.01")) == Decimal("0.33333")  # 0.333333 rounded down


@pytest.mark.parametrize(
    ("amount", "percent", "fee"),
    [("25", "0", "0"), ("25", "1.5", "0.38"), ("10", "2.5", "0.25"), ("0.01", "1", "0.01")],
)
def test_fees_round_up_to_the_cent(amount, percent, fee):
    assert method_fee(Decimal(amount), Decimal(percent)) == Decimal(fee)


def test_add_funds_lists_every_method_with_limits_fee_and_bonuses(
    client: Client, customer, rules, settings
):
    settings.STRIPE_SECRET_KEY = "sk_test"
    settings.STRIPE_WEBHOOK_SECRET = "whsec"
    settings.STRIPE_FEE_PERCENT = Decimal("3")
    settings.NOWPAYMENTS_API_KEY = "k"
    settings.NOWPAYMENTS_IPN_SECRET = "s"
    ManualMethod.objects.create(
        name="USDT wallet", instructions="Send to T…", min_deposit=20, max_deposit=900
    )
    ManualMethod.objects.create(
        name="Hidden", instructions="-", min_deposit=1, max_deposit=2, is_enabled=False
    )
    client.force_login(customer)
    page = client.get("/funds/").content.decode()
    for text in (
        "Card (Stripe)",
        "fee 3.00%",
        "Crypto (NOWPayments)",
        "USDT wallet",
        "+5.00% bonus from $100.00",
        "+10.00% bonus from $500.00",
        "Bonuses apply to every payment method.",
        'href="/support/new/?category=payment"',
    ):
        assert text in page
    assert "Hidden" not in page
    assert "+50.00%" not in page
