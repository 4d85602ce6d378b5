from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.models import ApiKey, LedgerEntry, User
from accounts.services import (
    InsufficientFunds,
    api_key_authenticate,
    api_key_revoke,
    api_key_rotate,
    balance_credit,
    balance_debit,
    funds_adjust,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def ledger(user: User) -> list[tuple[str, Decimal, Decimal]]:
    return [
        (e.kind, e.amount, e.balance_after)
        for e in LedgerEntry.objects.filter(user=user).order_by("id")
    ]


def test_it_debits_with_one_ledger_row(customer: User) -> None:
    entry = balance_debit(user=customer, amount=Decimal("12.345"), kind="order_charge")

    customer.refresh_from_db()
    assert customer.balance == Decimal("87.65500")
    assert (entry.amount, entry.balance_after) == (Decimal("-12.34500"), Decimal("87.65500"))
    assert ledger(customer)[-1] == ("order_charge", Decimal("-12.34500"), Decimal("87.65500"))


def test_it_refuses_to_overspend_and_writes_nothing(customer: User) -> None:
    with pytest.raises(InsufficientFunds):
        balance_debit(user=customer, amount=Decimal("100.00001"), kind="order_charge")

    customer.refresh_from_db()
    assert customer.balance == Decimal("100.00000")
    assert len(ledger(customer)) == 1


def test_it_debits_the_whole_balance_to_zero(customer: User) -> None:
    balance_debit(user=customer, amount=Decimal("100"), kind="order_charge")

    customer.refresh_from_db()
    assert customer.balance == Decimal("0")


@pytest.mark.parametrize("amount", ["0", "-1.00"])
def test_it_rejects_non_positive_amounts(customer: User, amount: str) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        balance_debit(user=customer, amount=Decimal(amount), kind="order_charge")
    with pytest.raises(ValueError, match="must be positive"):
        balance_credit(user=customer, amount=Decimal(amount), kind="deposit")
    assert len(ledger(customer)) == 1


def test_it_refuses_floats(customer: User) -> None:
    with pytest.raises(TypeError):
        balance_credit(user=customer, amount=1.5, kind="deposit")  # type: ignore[arg-type]


def test_it_chains_balance_after_across_changes() -> None:
    user = UserFactory()
    balance_credit(user=user, amount=Decimal("10"), kind="deposit")
    balance_debit(user=user, amount=Decimal("3.5"), kind="order_charge")
    balance_credit(user=user, amount=Decimal("1.25"), kind="refund")

    assert ledger(user) == [
        ("deposit", Decimal("10.00000"), Decimal("10.00000")),
        ("order_charge", Decimal("-3.50000"), Decimal("6.50000")),
        ("refund", Decimal("1.25000"), Decimal("7.75000")),
    ]


def test_it_refunds_an_order_at_most_once(customer: User) -> None:
    from tests.accounts.helpers import make_order

    order = make_order(customer)
    balance_credit(user=customer, amount=Decimal("1"), kind="refund", order=order)

    with pytest.raises(IntegrityError), transaction.atomic():
        balance_credit(user=customer, amount=Decimal("1"), kind="refund", order=order)

    customer.refresh_from_db()
    assert customer.balance == Decimal("101.00000")
    assert LedgerEntry.objects.filter(order=order, kind="refund").count() == 1


def test_it_refuses_to_update_or_delete_ledger_rows_in_code(customer: User) -> None:
    entry = LedgerEntry.objects.filter(user=customer).get()

    with pytest.raises(TypeError, match="append-only"):
        entry.save()
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()
    with pytest.raises(TypeError, match="append-only"):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=0)
    with pytest.raises(TypeError, match="append-only"):
        LedgerEntry.objects.filter(pk=entry.pk).delete()


def test_it_adds_funds_with_a_reason_and_the_staff_member(customer: User, admin_user: User) -> None:
    entry = funds_adjust(user=customer, amount=Decimal("5"), reason=" Goodwill ", staff=admin_user)

    customer.refresh_from_db()
    assert customer.balance == Decimal("105.00000")
    assert (entry.kind, entry.amount, entry.reason, entry.created_by_id) == (
        "adjustment",
        Decimal("5.00000"),
        "Goodwill",
        admin_user.pk,
    )


def test_it_removes_funds_but_never_below_zero(customer: User, admin_user: User) -> None:
    entry = funds_adjust(
        user=customer, amount=Decimal("-40"), reason="Chargeback", staff=admin_user
    )
    assert (entry.amount, entry.balance_after) == (Decimal("-40.00000"), Decimal("60.00000"))

    with pytest.raises(InsufficientFunds):
        funds_adjust(user=customer, amount=Decimal("-60.01"), reason="Too much", staff=admin_user)
    customer.refresh_from_db()
    assert customer.balance == Decimal("60.00000")


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        ("0", "x", "must not be zero"),
        ("1", "  ", "reason is required"),
    ],
)
def test_it_rejects_bad_adjustments(
    customer: User, admin_user: User, amount: str, reason: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        funds_adjust(user=customer, amount=Decimal(amount), reason=reason, staff=admin_user)
    assert len(ledger(customer)) == 1


def test_it_lets_only_staff_adjust(customer: User, other_user: User) -> None:
    with pytest.raises(ValueError, match="Only staff"):
        funds_adjust(user=customer, amount=Decimal("1"), reason="x", staff=other_user)


def test_it_stores_api_keys_hashed_and_authenticates_them(customer: User) -> None:
    raw = api_key_rotate(user=customer)

    stored = ApiKey.objects.get(user=customer)
    assert raw.startswith(stored.prefix)
    assert raw not in stored.key_hash
    assert api_key_authenticate(raw_key=raw, ip="10.0.0.1") == customer
    stored.refresh_from_db()
    assert stored.last_used_ip == "10.0.0.1"
    assert stored.last_used_at is not None


def test_it_rejects_wrong_rotated_and_revoked_keys(customer: User) -> None:
    old = api_key_rotate(user=customer)
    new = api_key_rotate(user=customer)

    assert api_key_authenticate(raw_key=old, ip=None) is None
    assert api_key_authenticate(raw_key=new[:-1] + "x", ip=None) is None
    assert api_key_authenticate(raw_key="", ip=None) is None
    assert api_key_authenticate(raw_key=new, ip=None) == customer

    api_key_revoke(user=customer)
    assert api_key_authenticate(raw_key=new, ip=None) is None


def test_it_rejects_keys_of_inactive_users(customer: User) -> None:
    raw = api_key_rotate(user=customer)
    User.objects.filter(pk=customer.pk).update(is_active=False)

    assert api_key_authenticate(raw_key=raw, ip=None) is None
