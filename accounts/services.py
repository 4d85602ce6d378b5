"""Writes to balances, the ledger and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import ApiKey, LedgerEntry, Payment, User
from orders.models import Order
from panel.money import money


class InsufficientFunds(Exception):
    """The balance does not cover the debit; nothing was written."""


def _apply_delta(*, user_id: int, delta: Decimal, floor: Decimal | None) -> Decimal | None:
    """Add ``delta`` to the balance in one conditional UPDATE; the new balance, or None.

    With ``floor`` the row only changes while ``balance >= floor`` (the check and the write are
    one statement, so concurrent debits can never overspend). The UPDATE holds the user's row
    lock until commit, so the balance it returns is the one the ledger row must record.
    """
    if connection.vendor == "postgresql":
        # Why raw SQL: UPDATE … RETURNING does in one round trip what the ORM needs two for,
        # on the hottest write path (every order).
        table = connection.ops.quote_name(User._meta.db_table)
        sql = f"UPDATE {table} SET balance = balance + %s WHERE id = %s"
        params: list[object] = [delta, user_id]
        if floor is not None:
            sql += " AND balance >= %s"
            params.append(floor)
        with connection.cursor() as cursor:
            cursor.execute(sql + " RETURNING balance", params)
            row = cursor.fetchone()
        return None if row is None else row[0]
    # Portable path (SQLite in development): the ORM's DecimalField handling, two statements.
    users = User.objects.filter(pk=user_id)
    if floor is not None:
        users = users.filter(balance__gte=floor)
    if users.update(balance=F("balance") + delta) != 1:
        return None
    return User.objects.filter(pk=user_id).values_list("balance", flat=True).get()


def _record(
    *,
    user_id: int,
    amount: Decimal,
    balance_after: Decimal,
    kind: str,
    order: Order | None,
    payment: Payment | None,
    reason: str,
    created_by: User | None,
) -> LedgerEntry:
    return LedgerEntry.objects.create(
        user_id=user_id,
        kind=kind,
        amount=amount,
        balance_after=balance_after,
        order=order,
        payment=payment,
        reason=reason[:255],
        created_by=created_by,
    )


def balance_debit(
    *,
    user: User,
    amount: Decimal,
    kind: str,
    order: Order | None = None,
    reason: str = "",
    created_by: User | None = None,
) -> LedgerEntry:
    """Take `amount` (> 0) from the user's balance with one ledger row, or raise InsufficientFunds.

    A conditional UPDATE does the check and the write in one statement, so concurrent debits
    can never overspend; the balance >= 0 constraint backs it up.
    """
    amount = money(amount)
    if amount <= 0:
        raise ValueError("A debit amount must be positive")
    # No savepoint: a refused debit writes nothing and is raised after the block (so it does
    # not doom a caller's transaction), and any database error aborts the caller's
    # transaction on PostgreSQL whether or not a savepoint was taken.
    with transaction.atomic(savepoint=False):
        balance_after = _apply_delta(user_id=user.pk, delta=-amount, floor=amount)
        entry: LedgerEntry | None = None
        if balance_after is not None:
            entry = _record(
                user_id=user.pk,
                amount=-amount,
                balance_after=balance_after,
                kind=kind,
                order=order,
                payment=None,
                reason=reason,
                created_by=created_by,
            )
    if entry is None:
        raise InsufficientFunds
    return entry


def balance_credit(
    *,
    user: User,
    amount: Decimal,
    kind: str,
    order: Order | None = None,
    payment: Payment | None = None,
    reason: str = "",
    created_by: User | None = None,
) -> LedgerEntry:
    """Add `amount` (> 0) to the user's balance with one ledger row.

    A second credit of the same kind for the same order or payment violates a unique key and
    raises IntegrityError with nothing written; callers treat that as "already done".
    """
    amount = money(amount)
    if amount <= 0:
        raise ValueError("A credit amount must be positive")
    with transaction.atomic():
        balance_after = _apply_delta(user_id=user.pk, delta=amount, floor=None)
        if balance_after is None:
            raise User.DoesNotExist(f"No user {user.pk}")
        return _record(
            user_id=user.pk,
            amount=amount,
            balance_after=balance_after,
            kind=kind,
            order=order,
            payment=payment,
            reason=reason,
            created_by=created_by,
        )


def funds_adjust(*, user: User, amount: Decimal, reason: str, staff: User) -> LedgerEntry:
    """Staff add (amount > 0) or remove (amount < 0) funds; one audited ADJUSTMENT ledger row.

    Raises ValueError for a zero amount, a blank reason or a non-staff author, and
    InsufficientFunds when a removal would take the balance below zero.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("A reason is required for a manual adjustment")
    if not staff.is_staff:
        raise ValueError("Only staff can adjust balances")
    amount = money(amount)
    if amount == 0:
        raise ValueError("The adjustment amount must not be zero")
    if amount > 0:
        return balance_credit(
            user=user,
            amount=amount,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            reason=reason,
            created_by=staff,
        )
    return balance_debit(
        user=user,
        amount=-amount,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        reason=reason,
        created_by=staff,
    )


API_KEY_PREFIX_LENGTH = 8


def _hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_rotate(*, user: User) -> str:
    """Create or replace the user's API key and return the raw key (shown once, never stored)."""
    prefix = secrets.token_hex(API_KEY_PREFIX_LENGTH // 2)
    raw_key = prefix + secrets.token_hex(24)
    ApiKey.objects.update_or_create(
        user=user,
        defaults={
            "prefix": prefix,
            "key_hash": _hash_key(raw_key),
            "last_used_at": None,
            "last_used_ip": None,
        },
    )
    return raw_key


def api_key_revoke(*, user: User) -> None:
    ApiKey.objects.filter(user=user).delete()


def api_key_authenticate(*, raw_key: str, ip: str | None) -> User | None:
    """The active user owning `raw_key`, or None. Records last use."""
    if not raw_key or len(raw_key) > 128:
        return None
    # The prefix is unique: no ORDER BY/LIMIT needed, one indexed join on every API request.
    api_key = next(
        iter(
            ApiKey.objects.select_related("user")
            .filter(prefix=raw_key[:API_KEY_PREFIX_LENGTH])
            .order_by()
        ),
        None,
    )
    if api_key is None or not hmac.compare_digest(api_key.key_hash, _hash_key(raw_key)):
        return None
    if not api_key.user.is_active:
        return None
    now = timezone.now()
    # Why: one write per minute at most, so a busy reseller does not write on every request.
    if (
        api_key.last_used_at is None
        or (now - api_key.last_used_at).total_seconds() > 60
        or (api_key.last_used_ip != ip)
    ):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now, last_used_ip=ip)
    return api_key.user
