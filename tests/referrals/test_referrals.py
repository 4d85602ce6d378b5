from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from accounts.models import LedgerEntry, Payment, User
from accounts.payments.services import payment_confirm
from referrals.models import Commission, Programme, Referral
from referrals.services import programme_get, referral_attach, referral_code_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual passphrase 42"


def pending_payment(user: User, amount: str = "40.00") -> Payment:
    return Payment.objects.create(
        user=user, gateway="stripe", amount=Decimal(amount), currency="USD", status="pending"
    )


def confirm(payment: Payment) -> bool:
    return payment_confirm(
        payment_id=payment.pk,
        gateway="stripe",
        external_id=f"cs_{payment.pk}",
        amount=payment.amount + payment.fee,
        currency="USD",
    )


def sign_up_through(client: Client, code: str, email: str) -> User:
    response = client.get(f"/r/{code}/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/signup/"
    response = client.post(
        "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return User.objects.get(email=email)


def test_it_tracks_a_visit_and_a_sign_up_through_the_link(customer: User) -> None:
    code = referral_code_for(user=customer)

    referred = sign_up_through(Client(), code.code, "new@example.com")

    code.refresh_from_db()
    assert code.visits == 1
    assert Referral.objects.get().referrer == customer
    assert Referral.objects.get().referred == referred


def test_it_credits_the_commission_once_per_deposit_through_the_ledger(customer: User) -> None:
    Programme.objects.create(commission_percent=Decimal("10"))
    referred = UserFactory()
    referral_attach(user=referred, code=referral_code_for(user=customer).code)
    payment = pending_payment(referred, "40.00")
    before = customer.balance

    assert confirm(payment) is True
    assert confirm(payment) is False  # a replayed confirmation

    customer.refresh_from_db()
    assert customer.balance == before + Decimal("4.00000")
    entry = LedgerEntry.objects.get(user=customer, kind="referral")
    assert (entry.kind, entry.amount, entry.payment_id) == (
        "referral",
        Decimal("4.00000"),
        payment.pk,
    )
    commission = Commission.objects.get()
    assert (commission.deposit, commission.percent, commission.amount) == (
        Decimal("40.00000"),
        Decimal("10.00"),
        Decimal("4.00000"),
    )
    # A second commission for the same deposit cannot be written at all.
    with pytest.raises(IntegrityError), transaction.atomic():
        Commission.objects.create(
            referral=commission.referral, payment=payment, deposit=1, percent=1, amount=1
        )


def test_it_credits_nothing_when_staff_turn_the_programme_off(customer: User) -> None:
    referred = UserFactory()
    referral_attach(user=referred, code=referral_code_for(user=customer).code)
    Programme.objects.filter(pk=programme_get().pk).update(is_enabled=False)  # staff turn it off
    before = customer.balance

    assert confirm(pending_payment(referred)) is True

    customer.refresh_from_db()
    assert customer.balance == before
    assert not Commission.objects.exists()
    # A link followed while the programme is off is not tracked either.
    client = Client()
    response = client.get(f"/r/{referral_code_for(user=customer).code}/")
    assert response.status_code == 302
    assert "referral_code" not in client.session


def test_it_refuses_self_referral_and_existing_accounts(customer: User, other_user: User) -> None:
    code = referral_code_for(user=customer).code

    assert referral_attach(user=customer, code=code) is None
    # A signed-in (existing) account following a link is neither counted nor attached.
    client = Client()
    client.force_login(other_user)
    client.get(f"/r/{code}/")
    assert referral_code_for(user=customer).visits == 0
    assert "referral_code" not in client.session
    # And an account referred once keeps its first referrer.
    assert referral_attach(user=other_user, code=code) is not None
    third = UserFactory()
    assert referral_attach(user=other_user, code=referral_code_for(user=third).code) is None
    assert Referral.objects.get(referred=other_user).referrer == customer


def test_it_shows_the_referrer_their_link_and_figures(client: Client, customer: User) -> None:
    Programme.objects.create(commission_percent=Decimal("7.5"))
    referred = UserFactory()
    referral_attach(user=referred, code=referral_code_for(user=customer).code)
    confirm(pending_payment(referred, "20.00"))
    client.force_login(customer)

    response = client.get("/referrals/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f"/r/{referral_code_for(user=customer).code}/" in page
    assert "7.50%" in page
    assert 'data-testid="referral-signups">1<' in page
    assert 'data-testid="referral-deposits">1<' in page
    assert 'data-testid="referral-earned">$1.50<' in page


def test_it_keeps_one_programme_row() -> None:
    assert programme_get().pk == programme_get().pk
    assert Programme.objects.count() == 1
