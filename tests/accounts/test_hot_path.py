"""The statements behind every order and every API request: a debit with its ledger row, and
authenticating an API key."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiKey, LedgerEntry, User
from accounts.services import (
    InsufficientFunds,
    api_key_authenticate,
    api_key_rotate,
    balance_credit,
    balance_debit,
)

pytestmark = pytest.mark.django_db


def test_it_debits_and_records_in_one_statement(customer: User, requires_postgres: None) -> None:
    with CaptureQueriesContext(connection) as queries:
        entry = balance_debit(user=customer, amount=Decimal("2.5"), kind="order_charge")

    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["WITH"]
    stored = LedgerEntry.objects.get(pk=entry.pk)
    assert (stored.amount, stored.balance_after) == (Decimal("-2.50000"), Decimal("97.50000"))
    assert (entry.amount, entry.balance_after) == (stored.amount, stored.balance_after)
    assert entry.created_at == stored.created_at
    customer.refresh_from_db()
    assert customer.balance == Decimal("97.50000")


def test_it_refuses_a_debit_without_spoiling_the_callers_transaction(customer: User) -> None:
    with transaction.atomic():
        balance_credit(user=customer, amount=Decimal("1"), kind="deposit")
        with pytest.raises(InsufficientFunds):
            balance_debit(user=customer, amount=Decimal("500"), kind="order_charge")
        balance_debit(user=customer, amount=Decimal("101"), kind="order_charge")

    customer.refresh_from_db()
    assert customer.balance == Decimal("0")
    assert [(e.kind, e.balance_after) for e in LedgerEntry.objects.filter(user=customer)] == [
        ("order_charge", Decimal("0")),
        ("deposit", Decimal("101.00000")),
        ("deposit", Decimal("100.00000")),
    ]


def test_it_refuses_to_credit_a_missing_user() -> None:
    with pytest.raises(User.DoesNotExist):
        balance_credit(user=User(pk=10**9), amount=Decimal("1"), kind="deposit")
    assert not LedgerEntry.objects.exists()


def test_it_authenticates_with_one_query_and_records_use_once_a_minute(customer: User) -> None:
    raw = api_key_rotate(user=customer)

    with CaptureQueriesContext(connection) as first:
        assert api_key_authenticate(raw_key=raw, ip="10.0.0.1") == customer
    with CaptureQueriesContext(connection) as again:
        user = api_key_authenticate(raw_key=raw, ip="10.0.0.1")
    assert [q["sql"].split()[0] for q in first.captured_queries] == ["SELECT", "UPDATE"]
    assert [q["sql"].split()[0] for q in again.captured_queries] == ["SELECT"]
    assert user is not None
    assert (user.pk, user.email, user.balance) == (customer.pk, customer.email, customer.balance)
    assert not hasattr(user, "api_key_hash_")

    with CaptureQueriesContext(connection) as elsewhere:
        api_key_authenticate(raw_key=raw, ip="10.0.0.2")
    assert len(elsewhere.captured_queries) == 2
    assert ApiKey.objects.get(user=customer).last_used_ip == "10.0.0.2"

    an_hour_ago = ApiKey.objects.get(user=customer).last_used_at - dt.timedelta(hours=1)
    ApiKey.objects.filter(user=customer).update(last_used_at=an_hour_ago)
    with CaptureQueriesContext(connection) as later:
        api_key_authenticate(raw_key=raw, ip="10.0.0.2")
    assert len(later.captured_queries) == 2
    assert ApiKey.objects.get(user=customer).last_used_at > an_hour_ago
