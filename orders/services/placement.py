"""Placing orders: validate, price, charge and create in one transaction; forward on commit."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
import hashlib
import json
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import LedgerEntry, User
from accounts.services import InsufficientFunds, balance_debit
from orders.errors import PlacementError
from orders.models import Order
from orders.services.dispatch import provider_wake
from orders.services.validation import Placement, find_service, post_price, validate
from orders.states import ACTIVE_LINK
from panel.inbound import text_problem
from panel.smmapi.protocol import Error

logger = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY = 128


def order_quote(*, user: User, service_id: int, fields: Mapping[str, str]) -> Decimal:
    """The charge ``order_place`` would take for these fields; writes nothing.

    Raises PlacementError exactly as ``order_place`` would (except for funds and duplicates).
    """
    placement = validate(user=user, service=find_service(service_id), fields=fields)
    return placement.charge


def order_place(
    *,
    user: User,
    service_id: int,
    fields: Mapping[str, str],
    source: str,
    idempotency_key: str | None = None,
) -> Order:
    """Validate, price and charge an order, and enqueue its forwarding once committed.

    Raises PlacementError with nothing written. With an ``idempotency_key``, repeating the same
    request returns the original order (charged once); a different request under the same key
    is refused.
    """
    if source not in Order.Source.values:
        raise ValueError(f"Unknown order source {source!r}")
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip() or None
    if idempotency_key is not None and len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise PlacementError(
            "The idempotency key is too long (at most %(n)s characters).",
            api_error=Error.INCORRECT_REQUEST,
            params={"n": MAX_IDEMPOTENCY_KEY},
        )
    # Before any query: a lone surrogate cannot even be encoded to look the key up.
    if idempotency_key is not None and text_problem(idempotency_key):
        raise PlacementError(
            "The idempotency key contains control or invalid characters.",
            api_error=Error.INCORRECT_REQUEST,
        )
    request_hash = _request_hash(service_id, fields)
    if idempotency_key is not None:
        existing = _replay(user=user, key=idempotency_key, request_hash=request_hash)
        if existing is not None:
            return existing

    placement = validate(user=user, service=find_service(service_id), fields=fields)
    try:
        order = _create(
            user=user,
            placement=placement,
            source=source,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
    except IntegrityError:
        # Two requests with one idempotency key raced; the unique key let one win.
        if idempotency_key is None:
            raise
        existing = _replay(user=user, key=idempotency_key, request_hash=request_hash)
        if existing is None:
            raise
        return existing
    return order


def _create(
    *,
    user: User,
    placement: Placement,
    source: str,
    idempotency_key: str | None,
    request_hash: str,
) -> Order:
    service = placement.service
    # Why no transaction here on PostgreSQL when nothing is read first: _place sends the link's
    # lock and the statement that checks the link, debits and inserts as one query string,
    # which PostgreSQL runs as one transaction: one round trip for the whole placement. The
    # idempotency replay and a subscription's balance check read first, so they take one.
    one_trip = (
        connection.vendor == "postgresql"
        and idempotency_key is None
        and not placement.unlimited_posts
    )
    with contextlib.nullcontext() if one_trip else transaction.atomic():
        if idempotency_key is not None:
            # Concurrent retries of one request wait here for the first to commit, then get
            # its order instead of tripping the duplicate-link guard or the unique key.
            _advisory_lock(f"idem:{user.pk}:{idempotency_key}")
            existing = _replay(user=user, key=idempotency_key, request_hash=request_hash)
            if existing is not None:
                return existing
        if placement.unlimited_posts:
            # Charged per delivered post; refuse when not even the first post is covered.
            first = post_price(
                rate=placement.rate, max_quantity=int(placement.upstream_fields["max"])
            )
            balance = User.objects.filter(pk=user.pk).values_list("balance", flat=True).get()
            if balance < first:
                raise PlacementError(
                    "Your balance does not cover the first post of this subscription.",
                    api_error=Error.NOT_ENOUGH_FUNDS,
                )
        order = Order(
            user=user,
            service=service,
            provider=service.provider,
            upstream_service_id=service.upstream_id,
            type=placement.type.value,
            link=placement.link,
            quantity=placement.quantity,
            fields=placement.upstream_fields,
            runs=placement.runs,
            interval=placement.interval,
            rate=placement.rate,
            charge=placement.charge,
            source=source,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
        guard_link = bool(settings.ORDERS_DUPLICATE_LINK_GUARD and placement.link)
        outcome = _place(order, guard_link=guard_link)
        if outcome is _Outcome.LINK_BUSY:
            raise PlacementError(
                "There is already an active order for this link on this service. "
                "Please wait until it is completed.",
                api_error=Error.ACTIVE_ORDER,
                field="link",
            )
        if outcome is _Outcome.NO_FUNDS:
            raise PlacementError(
                "Your balance is too low for this order.",
                api_error=Error.NOT_ENOUGH_FUNDS,
            )
        # One wake-up per provider and burst, not a message per order (orders.services.dispatch).
        provider_id = service.provider_id
        transaction.on_commit(lambda: provider_wake(provider_id))
    return order


class _Outcome(enum.Enum):
    PLACED = "placed"
    LINK_BUSY = "link busy"
    NO_FUNDS = "no funds"


def enqueue_forward(order_id: int) -> None:
    """Wake a worker for the order. A broker outage loses nothing: the sweeper re-enqueues."""
    from orders import tasks

    try:
        tasks.forward_order.delay(order_id)
    except Exception:
        logger.exception("Could not enqueue order %s; the sweeper will pick it up", order_id)


def _place(order: Order, *, guard_link: bool) -> _Outcome:
    """Insert the order and take its charge with one ledger row; with ``guard_link`` only while
    no active order holds its (service, link).

    On PostgreSQL nothing is written unless the order is placed. Elsewhere (SQLite, in
    development) the ORM inserts first; the caller's transaction rolls the order back when it
    raises on a refusal.
    """
    if connection.vendor != "postgresql":
        busy = Order.objects.filter(
            service_id=order.service_id, link=order.link, status__in=ACTIVE_LINK
        )
        if guard_link and busy.exists():
            return _Outcome.LINK_BUSY
        order.save(force_insert=True)
        if order.charge > 0:
            try:
                balance_debit(
                    user=order.user,
                    amount=order.charge,
                    kind=LedgerEntry.Kind.ORDER_CHARGE,
                    order=order,
                    reason=f"Order {order.pk}",
                )
            except InsufficientFunds:
                return _Outcome.NO_FUNDS
        return _Outcome.PLACED
    fields, sql = _place_sql(guard_link=guard_link, charged=order.charge > 0)
    params: dict[str, Any] = {
        f.attname: f.get_db_prep_save(f.pre_save(order, add=True), connection) for f in fields
    }
    params["lock"] = _lock_id(f"link:{order.service_id}:{order.link}")
    params["debit"] = -order.charge
    params["kind"] = LedgerEntry.Kind.ORDER_CHARGE.value
    params["now"] = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if guard_link:
            cursor.nextset()  # past the lock's own result
        link_free, order_id = cursor.fetchone()
    if not link_free:
        return _Outcome.LINK_BUSY
    if order_id is None:
        return _Outcome.NO_FUNDS
    order.pk = order_id
    order._state.adding = False
    order._state.db = connection.alias
    return _Outcome.PLACED


@functools.cache
def _place_sql(*, guard_link: bool, charged: bool) -> tuple[list[Any], str]:
    """The order's fields and the placement's SQL, with a named parameter per order column
    (built once: the casts alone cost more than the statement, and a fixed text under 50
    parameters is one psycopg parses once per process).

    One statement: ``free`` probes for an active order on the link (an index-only probe of
    order_active_link); ``changed`` takes the charge only while the link is free and the
    balance covers it, in one conditional UPDATE, so concurrent orders can never overspend;
    the order is inserted only if the charge was taken, and the ledger row records it with the
    balance the UPDATE returned. With ``guard_link`` the statement follows
    ``pg_advisory_xact_lock`` on the (service, link) in the same query string. PostgreSQL gives
    each statement of a query string its own snapshot, so the probe sees every order committed
    before the lock was granted; without an open transaction it runs the string as one
    transaction, which holds the lock until it commits.
    """
    quote = connection.ops.quote_name

    def column(model: Any, name: str) -> str:
        return quote(str(model._meta.get_field(name).column))

    fields = [f for f in Order._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(quote(str(f.column)) for f in fields)
    # In INSERT … SELECT an untyped NULL would otherwise be text, not the column's type.
    values = ", ".join(f"%({f.attname})s::{f.cast_db_type(connection)}" for f in fields)
    order_table, pk = quote(Order._meta.db_table), quote(str(Order._meta.pk.column))
    # The statuses are our constants (lower-case words), written in so the probe's text
    # matches order_active_link's predicate.
    statuses = ", ".join(f"'{status.value}'" for status in ACTIVE_LINK)
    probe = (
        f"SELECT 1 FROM {order_table} WHERE {column(Order, 'service')} = %(service_id)s "  # noqa: S608 (model identifiers and constants)
        f"AND {column(Order, 'link')} = %(link)s AND {column(Order, 'status')} IN ({statuses})"
    )
    free = f"NOT EXISTS ({probe})" if guard_link else "TRUE"
    if charged:
        ledger = quote(LedgerEntry._meta.db_table)
        entry_columns = ", ".join(
            column(LedgerEntry, name)
            for name in ("user", "kind", "amount", "created_at", "order", "reason", "balance_after")
        )
        sql = (
            f"WITH free AS (SELECT {free} AS ok), "  # noqa: S608 (model identifiers; values bound)
            f"changed AS (UPDATE {quote(User._meta.db_table)} SET balance = balance + %(debit)s "
            "WHERE id = %(user_id)s AND balance >= %(charge)s AND (SELECT ok FROM free) "
            "RETURNING balance), "
            f"placed AS (INSERT INTO {order_table} ({columns}) "
            f"SELECT {values} FROM changed RETURNING {pk}), "
            f"entry AS (INSERT INTO {ledger} ({entry_columns}) "
            "SELECT %(user_id)s, %(kind)s, %(debit)s, %(now)s, "
            f"placed.{pk}, 'Order ' || placed.{pk}, changed.balance FROM placed, changed) "
            f"SELECT ok, (SELECT {pk} FROM placed) FROM free"
        )
    else:
        sql = (
            f"WITH free AS (SELECT {free} AS ok), "  # noqa: S608 (model identifiers; values bound)
            f"placed AS (INSERT INTO {order_table} ({columns}) "
            f"SELECT {values} FROM free WHERE ok RETURNING {pk}) "
            f"SELECT ok, (SELECT {pk} FROM placed) FROM free"
        )
    if guard_link:
        sql = "SELECT pg_advisory_xact_lock(%(lock)s); " + sql
    return fields, sql


def _advisory_lock(name: str) -> None:
    """A transaction-scoped PostgreSQL lock on a name (no-op elsewhere); released at commit."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_id(name)])


def _lock_id(name: str) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _request_hash(service_id: object, fields: Mapping[str, str]) -> str:
    canonical = {
        "service": str(service_id).strip(),
        "fields": {str(k): str(v).strip() for k, v in fields.items() if v not in (None, "")},
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _replay(*, user: User, key: str, request_hash: str) -> Order | None:
    existing = Order.objects.filter(user=user, idempotency_key=key).first()
    if existing is None:
        return None
    if existing.request_hash != request_hash:
        raise PlacementError(
            "This idempotency key was already used for a different order.",
            api_error=Error.INCORRECT_REQUEST,
        )
    return existing


def enqueue_forward_later(order_id: int, delay: dt.timedelta) -> None:
    """Wake a worker after ``delay``; if the message is lost the sweeper still finds the order."""
    from orders import tasks

    try:
        tasks.forward_order.apply_async((order_id,), countdown=delay.total_seconds())
    except Exception:
        logger.exception("Could not schedule order %s; the sweeper will pick it up", order_id)
