import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum

from accounts.models import LedgerEntry
from accounts.services import InsufficientFunds, balance_credit, balance_debit
from tests.factories import UserFactory

THREADS = 50


@pytest.mark.django_db(transaction=True)
def test_it_never_overspends_under_concurrent_debits(requires_postgres: None) -> None:
    user = UserFactory()
    balance_credit(user=user, amount=Decimal("10.00"), kind=LedgerEntry.Kind.DEPOSIT)
    barrier = threading.Barrier(THREADS)

    def debit() -> bool:
        try:
            barrier.wait(timeout=10)
            balance_debit(user=user, amount=Decimal("1.00"), kind=LedgerEntry.Kind.ORDER_CHARGE)
            return True
        except InsufficientFunds:
            return False
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(lambda _: debit(), range(THREADS)))

    assert results.count(True) == 10
    user.refresh_from_db()
    assert user.balance == Decimal("0.00")
    entries = LedgerEntry.objects.filter(user=user)
    assert entries.count() == 11
    assert entries.aggregate(total=Sum("amount"))["total"] == Decimal("0.00")
    # The balance_after chain is gapless in id order: 10, 9, …, 0.
    assert list(entries.order_by("id").values_list("balance_after", flat=True)) == [
        Decimal(n) for n in range(10, -1, -1)
    ]
    assert connection.vendor == "postgresql"
