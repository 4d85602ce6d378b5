"""Reads of balances, the ledger and payments.

Every customer-facing read takes the user and filters by it, so a customer can only ever see
their own rows; views turn a None from the `*_get` functions into a 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, F, Q, QuerySet, Sum, Value, Window
from django.db.models.functions import Coalesce, Lag

from accounts.models import LedgerEntry, Payment, User
from panel.money import PLACES, ZERO, money


def ledger_entries_for(
    *,
    user: User,
    kind: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[LedgerEntry]:
    """The user's ledger, newest first, optionally filtered by kind and an inclusive date range."""
    entries = LedgerEntry.objects.filter(user=user).select_related("order", "payment")
    if kind:
        entries = entries.filter(kind=kind)
    if date_from is not None:
        entries = entries.filter(created_at__date__gte=date_from)
    if date_to is not None:
        entries = entries.filter(created_at__date__lte=date_to)
    return entries.order_by("-id")


def ledger_entry_get(*, user: User, entry_id: int) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(user=user, pk=entry_id).first()


def payments_for(
    *,
    user: User,
    status: str | None = None,
    gateway: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Payment]:
    """The user's payments, newest first, optionally filtered."""
    payments = Payment.objects.filter(user=user).select_related("method")
    if status:
        payments = payments.filter(status=status)
    if gateway:
        payments = payments.filter(gateway=gateway)
    if date_from is not None:
        payments = payments.filter(created_at__date__gte=date_from)
    if date_to is not None:
        payments = payments.filter(created_at__date__lte=date_to)
    return payments.order_by("-id")


def payment_get(*, user: User, payment_id: int) -> Payment | None:
    return Payment.objects.filter(user=user, pk=payment_id).first()


@dataclass(frozen=True)
class LedgerDiscrepancy:
    user_id: int
    email: str
    message: str


_MONEY = DecimalField(max_digits=18, decimal_places=PLACES)


def ledger_discrepancies() -> Iterator[LedgerDiscrepancy]:
    """Every place where the cached balances and the ledger disagree.

    Two set-based queries, whatever the number of users and entries:
    1. per user, the sum of ledger amounts must equal the cached balance;
    2. per entry, in id order per user, balance_after must equal the previous entry's
       balance_after (0 for the first) plus the entry's amount.
    """
    totals = (
        User.objects.annotate(
            ledger_total=Coalesce(Sum("ledger_entries__amount"), Value(ZERO), output_field=_MONEY)
        )
        .exclude(ledger_total=F("balance"))
        .order_by("pk")
        .values_list("pk", "email", "balance", "ledger_total")
    )
    for user_id, email, balance, total in totals.iterator():
        yield LedgerDiscrepancy(
            user_id=user_id,
            email=email,
            message=f"balance is {money(balance)} but the ledger sums to {money(total)}",
        )

    previous = Window(
        Lag("balance_after", default=Value(ZERO), output_field=_MONEY),
        partition_by=[F("user_id")],
        order_by=F("id").asc(),
    )
    broken = (
        LedgerEntry.objects.annotate(previous_after=previous)
        .filter(~Q(balance_after=F("previous_after") + F("amount")))
        .order_by("user_id", "id")
        .values_list("pk", "user_id", "user__email", "previous_after", "amount", "balance_after")
    )
    for entry_id, user_id, email, previous_after, amount, balance_after in broken.iterator():
        previous_after, amount, balance_after = (
            money(previous_after),
            money(amount),
            money(balance_after),
        )
        expected: Decimal = previous_after + amount
        yield LedgerDiscrepancy(
            user_id=user_id,
            email=email,
            message=(
                f"entry {entry_id}: balance_after is {balance_after} but the previous "
                f"balance {previous_after} plus amount {amount} is {expected}"
            ),
        )
