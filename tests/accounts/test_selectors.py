from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import LedgerEntry, Payment, User
from accounts.selectors import (
    ledger_entries_for,
    ledger_entry_get,
    payment_get,
    payments_for,
)
from accounts.services import balance_debit

pytestmark = pytest.mark.django_db


def make_payment(user: User, status: str = "pending") -> Payment:
    return Payment.objects.create(
        user=user, gateway="stripe", amount=Decimal("25"), currency="USD", status=status
    )


def test_it_shows_a_customer_only_their_own_ledger(customer: User, other_user: User) -> None:
    balance_debit(user=customer, amount=Decimal("1"), kind="order_charge")
    others = LedgerEntry.objects.filter(user=other_user).get()

    entries = list(ledger_entries_for(user=customer))

    assert [(e.user_id, e.kind) for e in entries] == [
        (customer.pk, "order_charge"),
        (customer.pk, "deposit"),
    ]
    assert ledger_entry_get(user=customer, entry_id=others.pk) is None
    assert ledger_entry_get(user=other_user, entry_id=others.pk) == others


def test_it_filters_the_ledger_by_kind_and_date(customer: User) -> None:
    balance_debit(user=customer, amount=Decimal("1"), kind="order_charge")
    today = timezone.now().date()

    assert [e.kind for e in ledger_entries_for(user=customer, kind="order_charge")] == [
        "order_charge"
    ]
    assert ledger_entries_for(user=customer, date_from=today, date_to=today).count() == 2
    assert not ledger_entries_for(user=customer, date_from=today + timedelta(days=1)).exists()
    assert not ledger_entries_for(user=customer, date_to=today - timedelta(days=1)).exists()


def test_it_shows_a_customer_only_their_own_payments(customer: User, other_user: User) -> None:
    mine = make_payment(customer)
    paid = make_payment(customer, status="paid")
    theirs = make_payment(other_user)

    assert list(payments_for(user=customer)) == [paid, mine]
    assert list(payments_for(user=customer, status="paid")) == [paid]
    assert list(payments_for(user=customer, gateway="paypal")) == []
    assert payment_get(user=customer, payment_id=theirs.pk) is None
    assert payment_get(user=customer, payment_id=mine.pk) == mine


def test_it_answers_404_for_another_customers_payment_return(
    client: Client, customer: User, other_user: User
) -> None:
    theirs = make_payment(other_user)
    client.force_login(customer)

    response = client.get(f"/payments/{theirs.pk}/return/success/")

    assert response.status_code == 404


def test_it_never_credits_on_the_return_page(client: Client, customer: User) -> None:
    payment = make_payment(customer)
    client.force_login(customer)

    response = client.get(f"/payments/{payment.pk}/return/success/", follow=False)

    assert response.status_code == 302
    assert response["Location"] == "/funds/"
    payment.refresh_from_db()
    customer.refresh_from_db()
    assert payment.status == "pending"
    assert customer.balance == Decimal("100.00000")
    messages = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
    assert messages == [
        "Thank you! Your payment of 25.00 USD is being confirmed; your balance updates as "
        "soon as the payment provider confirms it."
    ]


def test_it_acknowledges_a_canceled_payment(client: Client, customer: User) -> None:
    payment = make_payment(customer)
    client.force_login(customer)

    response = client.get(f"/payments/{payment.pk}/return/cancel/")

    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.status == "pending"  # Stripe's "expired" event closes it


def test_it_answers_404_for_an_unknown_outcome(client: Client, customer: User) -> None:
    payment = make_payment(customer)
    client.force_login(customer)

    assert client.get(f"/payments/{payment.pk}/return/hacked/").status_code == 404


def test_it_asks_anonymous_visitors_to_log_in(client: Client, customer: User) -> None:
    payment = make_payment(customer)

    response = client.get(f"/payments/{payment.pk}/return/success/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
