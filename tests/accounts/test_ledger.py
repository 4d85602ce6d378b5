from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from accounts.models import LedgerEntry, User
from accounts.services import balance_credit, balance_debit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def check_ledger() -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("check_ledger", stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


def test_it_passes_a_consistent_ledger(customer: User, other_user: User) -> None:
    balance_debit(user=customer, amount=Decimal("3"), kind="order_charge")
    balance_credit(user=customer, amount=Decimal("1"), kind="refund")
    UserFactory()  # no entries, zero balance

    assert check_ledger() == (True, "Ledger OK: every balance matches its ledger.\n")


def test_it_catches_a_tampered_balance(customer: User, other_user: User) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_user SET balance = balance + 5 WHERE id = %s", [customer.pk]
        )

    ok, output = check_ledger()

    assert not ok
    assert output == (
        f"user {customer.pk} (customer@example.com): balance is 105.00000 but the ledger "
        "sums to 100.00000\n1 ledger discrepancy found"
    )


def test_it_catches_a_balance_without_any_entries(db: None) -> None:
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(balance=Decimal("7"))

    ok, output = check_ledger()

    assert not ok
    assert f"user {user.pk} ({user.email}): balance is 7.00000 but the ledger sums to 0" in output


def test_it_catches_a_broken_balance_after_chain(customer: User) -> None:
    # An entry written behind the services' back: the sum matches, the chain does not.
    User.objects.filter(pk=customer.pk).update(balance=Decimal("90"))
    bad = LedgerEntry.objects.create(
        user=customer, kind="adjustment", amount=Decimal("-10"), balance_after=Decimal("95")
    )

    ok, output = check_ledger()

    assert not ok
    assert output == (
        f"user {customer.pk} (customer@example.com): entry {bad.pk}: balance_after is 95.00000 "
        "but the previous balance 100.00000 plus amount -10.00000 is 90.00000\n"
        "1 ledger discrepancy found"
    )


def test_it_checks_in_a_constant_number_of_queries(
    customer: User, other_user: User, django_assert_max_num_queries: object
) -> None:
    for _ in range(20):
        balance_debit(user=customer, amount=Decimal("1"), kind="order_charge")
        balance_debit(user=other_user, amount=Decimal("1"), kind="order_charge")

    with django_assert_max_num_queries(2):  # type: ignore[operator]
        assert check_ledger()[0]


def test_it_refuses_updates_and_deletes_in_the_database(
    customer: User, requires_postgres: None
) -> None:
    entry_id = LedgerEntry.objects.filter(user=customer).values_list("pk", flat=True).get()

    for sql in (
        "UPDATE accounts_ledgerentry SET amount = 0 WHERE id = %s",
        "DELETE FROM accounts_ledgerentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry_id])

    assert LedgerEntry.objects.get(pk=entry_id).amount == Decimal("100.00000")
