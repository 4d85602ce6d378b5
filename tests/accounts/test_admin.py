from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.models import LedgerEntry, Payment, User
from accounts.services import api_key_rotate

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client, admin_user: User, settings: Any) -> Client:
    settings.MFA_REQUIRED_FOR_STAFF = False
    client.force_login(admin_user)
    return client


def funds_url(user: User) -> str:
    return f"/admin/accounts/user/{user.pk}/funds/"


def test_it_shows_the_balance_read_only_with_a_funds_link(
    staff_client: Client, customer: User
) -> None:
    response = staff_client.get(f"/admin/accounts/user/{customer.pk}/change/")

    assert response.status_code == 200
    assert "balance" not in response.context["adminform"].form.fields
    assert funds_url(customer) in response.content.decode()


def test_it_adds_funds_with_a_reason(
    staff_client: Client, customer: User, admin_user: User
) -> None:
    response = staff_client.post(funds_url(customer), {"amount": "12.50", "reason": "Promo"})

    assert response.status_code == 302
    assert response["Location"] == f"/admin/accounts/user/{customer.pk}/change/"
    entry = LedgerEntry.objects.filter(user=customer).order_by("-id").first()
    assert entry is not None
    assert (entry.kind, entry.amount, entry.balance_after, entry.reason, entry.created_by) == (
        "adjustment",
        Decimal("12.50000"),
        Decimal("112.50000"),
        "Promo",
        admin_user,
    )


def test_it_removes_funds_but_not_below_zero(staff_client: Client, customer: User) -> None:
    response = staff_client.post(funds_url(customer), {"amount": "-100.01", "reason": "Oops"})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "amount": ["The balance is only 100.00000; it cannot go below 0."]
    }
    customer.refresh_from_db()
    assert customer.balance == Decimal("100.00000")
    assert LedgerEntry.objects.filter(user=customer).count() == 1


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"amount": "0", "reason": "x"}, {"amount": ["Enter a non-zero amount."]}),
        ({"amount": "5", "reason": "   "}, {"reason": ["This field is required."]}),
        ({"amount": "abc", "reason": "x"}, {"amount": ["Enter a number."]}),
    ],
)
def test_it_rejects_bad_adjustments(
    staff_client: Client, customer: User, data: dict[str, str], errors: dict[str, list[str]]
) -> None:
    response = staff_client.post(funds_url(customer), data)

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert LedgerEntry.objects.filter(user=customer).count() == 1


def test_it_keeps_customers_out_of_the_funds_page(client: Client, customer: User) -> None:
    client.force_login(customer)

    response = client.post(funds_url(customer), {"amount": "1000", "reason": "free money"})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    # …and the admin login refuses a signed-in non-staff user instead of asking for a password.
    assert client.get(response["Location"]).status_code == 403
    assert LedgerEntry.objects.filter(user=customer).count() == 1


def test_it_shows_the_ledger_read_only(staff_client: Client, customer: User) -> None:
    entry = LedgerEntry.objects.filter(user=customer).get()

    assert staff_client.get("/admin/accounts/ledgerentry/").status_code == 200
    assert staff_client.get(f"/admin/accounts/ledgerentry/{entry.pk}/change/").status_code == 200
    assert staff_client.get("/admin/accounts/ledgerentry/add/").status_code == 403
    assert staff_client.get(f"/admin/accounts/ledgerentry/{entry.pk}/delete/").status_code == 403
    response = staff_client.post(
        f"/admin/accounts/ledgerentry/{entry.pk}/change/", {"amount": "1000"}
    )
    assert response.status_code == 403
    assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("100.00000")


def test_it_shows_payments_read_only(staff_client: Client, customer: User) -> None:
    payment = Payment.objects.create(
        user=customer, gateway="stripe", amount=Decimal("25"), currency="USD"
    )

    assert staff_client.get("/admin/accounts/payment/").status_code == 200
    assert staff_client.get(f"/admin/accounts/payment/{payment.pk}/change/").status_code == 200
    assert staff_client.get("/admin/accounts/payment/add/").status_code == 403
    response = staff_client.post(
        f"/admin/accounts/payment/{payment.pk}/change/", {"status": "paid"}
    )
    assert response.status_code == 403
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_it_shows_only_the_api_key_prefix(staff_client: Client, customer: User) -> None:
    raw = api_key_rotate(user=customer)
    key = customer.api_key

    listing = staff_client.get("/admin/accounts/apikey/").content.decode()
    detail = staff_client.get(f"/admin/accounts/apikey/{key.pk}/change/").content.decode()

    assert key.prefix in listing
    for page in (listing, detail):
        assert raw not in page
        assert key.key_hash not in page
