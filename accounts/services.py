"""Writes to balances, the ledger and API keys."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import ApiKey, LedgerEntry, Payment, User
from console.models import AuditEntry
from console.services.audit import audit_record
from orders.models import Order
from panel.inbound import is_storable
from panel.money import money


class InsufficientFunds(Exception):
    """The balance does not cover the debit; nothing was written."""


# The ledger columns written by _change, besides balance_after (which the UPDATE returns).
_LEDGER_FIELDS = (
    "user",
    "kind",
    "amount",
    "order",
    "payment",
    "reason",
    "created_by",
    "created_at",
)


def _change(
    *,
    user_id: int,
    amount: Decimal,
    cover: Decimal | None,
    kind: str,
    order: Order | None,
    payment: Payment | None,
    reason: str,
    created_by: User | None,
) -> LedgerEntry | None:
    """Add ``amount`` (signed) to the balance and append its ledger row; None if nothing changed.

    With ``cover`` the balance only changes while ``balance >= cover``: the check and the write
    are one conditional UPDATE, so concurrent debits can never overspend. The UPDATE holds the
    user's row lock until commit, so the balance it returns is the one the ledger row records.
    Call inside a transaction.
    """
    entry = LedgerEntry(
        user_id=user_id,
        kind=kind,
        amount=amount,
        order=order,
        payment=payment,
        reason=reason[:255],
        created_by=created_by,
        created_at=timezone.now(),
    )
    if connection.vendor != "postgresql":
        # Portable path (SQLite in development): the ORM, three statements.
        users = User.objects.filter(pk=user_id)
        covered = users.filter(balance__gte=cover) if cover is not None else users
        if covered.update(balance=F("balance") + amount) != 1:
            return None
        # Read back without the cover condition: after a debit the balance may be below it.
        entry.balance_after = users.values_list("balance", flat=True).get()
        entry.save(force_insert=True)
        return entry
    # Why one raw statement: every order takes this path while holding the user's row lock, and
    # all of one reseller's orders queue on that lock. UPDATE … RETURNING feeding the INSERT
    # makes the locked window one round trip plus the COMMIT, instead of three plus the COMMIT
    # (UPDATE, SELECT balance, INSERT) with a GIL hand-off between each under load.
    quote = connection.ops.quote_name
    fields = [f for f in LedgerEntry._meta.concrete_fields if f.name in _LEDGER_FIELDS]
    values = [field.get_db_prep_save(getattr(entry, field.attname), connection) for field in fields]
    condition = " AND balance >= %s" if cover is not None else ""
    sql = (
        f"WITH changed AS ("  # noqa: S608 (model identifiers; values bound)
        f"UPDATE {quote(User._meta.db_table)} SET balance = balance + %s "
        f"WHERE id = %s{condition} RETURNING balance) "
        f"INSERT INTO {quote(LedgerEntry._meta.db_table)} "
        f"({', '.join(quote(field.column or field.attname) for field in fields)}, balance_after) "
        f"SELECT {', '.join(['%s'] * len(fields))}, changed.balance FROM changed "
        f"RETURNING id, balance_after"
    )
    params = [amount, user_id, *([cover] if cover is not None else []), *values]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    entry.pk, entry.balance_after = row
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


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
    # not doom a caller's transaction), and a database error aborts a caller's PostgreSQL
    # transaction with or without one. Two fewer round trips on every order.
    with transaction.atomic(savepoint=False):
        entry = _change(
            user_id=user.pk,
            amount=-amount,
            cover=amount,
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
        entry = _change(
            user_id=user.pk,
            amount=amount,
            cover=None,
            kind=kind,
            order=order,
            payment=payment,
            reason=reason,
            created_by=created_by,
        )
    if entry is None:
        raise User.DoesNotExist(f"No user {user.pk}")
    return entry


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
    with transaction.atomic():
        if amount > 0:
            entry = balance_credit(
                user=user,
                amount=amount,
                kind=LedgerEntry.Kind.ADJUSTMENT,
                reason=reason,
                created_by=staff,
            )
        else:
            entry = balance_debit(
                user=user,
                amount=-amount,
                kind=LedgerEntry.Kind.ADJUSTMENT,
                reason=reason,
                created_by=staff,
            )
        audit_record(
            staff=staff,
            obj=user,
            action=AuditEntry.Action.MONEY,
            message=f"Balance adjusted by {entry.amount}: {reason}",
            before={"balance": entry.balance_after - entry.amount},
            after={"balance": entry.balance_after},
        )
    return entry


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
    # A NUL or a lone surrogate cannot be sent to PostgreSQL (and no key has one).
    if not raw_key or len(raw_key) > 128 or not is_storable(raw_key):
        return None
    now = timezone.now()
    found = _key_owner(prefix=raw_key[:API_KEY_PREFIX_LENGTH], used_since=now - LAST_USE_EVERY)
    if found is None:
        return None
    user, key = found
    if not hmac.compare_digest(key.key_hash, _hash_key(raw_key)) or not user.is_active:
        return None
    # Why: one write per minute at most, so a busy reseller does not write on every request.
    if not key.used_recently or key.last_used_ip != ip:
        _record_key_use(key_pk=key.pk, now=now, ip=ip)
    return user


def _record_key_use(*, key_pk: int, now: dt.datetime, ip: str | None) -> None:
    # Raw for the same reason as _key_owner: compiling the ORM's UPDATE costs more CPU than
    # running it, and every key of a busy panel takes this path once a minute.
    quote = connection.ops.quote_name
    used_at: Any = ApiKey._meta.get_field("last_used_at")
    used_ip: Any = ApiKey._meta.get_field("last_used_ip")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(ApiKey._meta.db_table)} SET {quote(used_at.column)} = %s, "  # noqa: S608 (model identifiers; values bound)
            f"{quote(used_ip.column)} = %s WHERE {quote(str(ApiKey._meta.pk.column))} = %s",
            [
                used_at.get_db_prep_save(now, connection),
                used_ip.get_db_prep_save(ip, connection),
                key_pk,
            ],
        )


LAST_USE_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class _KeyRow:
    pk: int
    key_hash: str
    last_used_ip: str | None
    used_recently: bool


def _key_owner(*, prefix: str, used_since: dt.datetime) -> tuple[User, _KeyRow] | None:
    """The owner of the key with this (unique) prefix and the key's row; one indexed join.

    Why a raw query and ``from_db``: it runs on every API request, and compiling the ORM join
    of the two models (or a RawQuerySet's column mapping) costs several times the query itself.
    The owner is built from its concrete columns through the fields' database converters, as
    the ORM would; the recency test is done in SQL so no backend's date format leaks out.
    """
    fields, converters = _user_columns()
    quote = connection.ops.quote_name
    used_at = f"k.{quote('last_used_at')}"
    sql = (
        f"SELECT {', '.join(f'u.{quote(field.column)}' for field in fields)}, "  # noqa: S608 (model identifiers; values bound)
        f"k.{quote('id')}, k.{quote('key_hash')}, k.{quote('last_used_ip')}, "
        f"CASE WHEN {used_at} >= %s THEN 1 ELSE 0 END "
        f"FROM {quote(ApiKey._meta.db_table)} k "
        f"JOIN {quote(User._meta.db_table)} u ON u.{quote('id')} = k.{quote('user_id')} "
        f"WHERE k.{quote('prefix')} = %s"
    )
    since = connection.ops.adapt_datetimefield_value(used_since)
    with connection.cursor() as cursor:
        cursor.execute(sql, [since, prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row[: len(fields)])
    for index, column, functions in converters:
        for convert in functions:
            values[index] = convert(values[index], column, connection)
    user = User.from_db(connection.alias, [field.attname for field in fields], values)
    key_pk, key_hash, last_used_ip, recent = row[len(fields) :]
    return user, _KeyRow(
        pk=key_pk, key_hash=key_hash, last_used_ip=last_used_ip, used_recently=bool(recent)
    )


@functools.cache
def _user_columns() -> tuple[list[Any], list[tuple[int, Any, list[Any]]]]:
    """The user's concrete fields and, per column that needs any, its database converters
    (found once per process)."""
    fields = list(User._meta.concrete_fields)
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(User._meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((index, column, functions))
    return fields, converters
