"""Placing orders: validate, price, charge and create in one transaction; forward on commit."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

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
    with transaction.atomic():
        if idempotency_key is not None:
            # Concurrent retries of one request wait here for the first to commit, then get
            # its order instead of tripping the duplicate-link guard or the unique key.
            _advisory_lock(f"idem:{user.pk}:{idempotency_key}")
            existing = _replay(user=user, key=idempotency_key, request_hash=request_hash)
            if existing is not None:
                return existing
        guard_link = bool(settings.ORDERS_DUPLICATE_LINK_GUARD and placement.link)
        if guard_link:
            # Serialise placements on one (service, link) so two concurrent orders cannot both
            # pass the check in _insert.
            _advisory_lock(f"link:{service.pk}:{placement.link}")
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
        if not _insert(order, guard_link=guard_link):
            raise PlacementError(
                "There is already an active order for this link on this service. "
                "Please wait until it is completed.",
                api_error=Error.ACTIVE_ORDER,
                field="link",
            )
        if placement.charge > 0:
            try:
                balance_debit(
                    user=user,
                    amount=placement.charge,
                    kind=LedgerEntry.Kind.ORDER_CHARGE,
                    order=order,
                    reason=f"Order {order.pk}",
                )
            except InsufficientFunds:
                raise PlacementError(
                    "Your balance is too low for this order.",
                    api_error=Error.NOT_ENOUGH_FUNDS,
                ) from None
        # One wake-up per provider and burst, not a message per order (orders.services.dispatch).
        provider_id = service.provider_id
        transaction.on_commit(lambda: provider_wake(provider_id))
    return order


def enqueue_forward(order_id: int) -> None:
    """Wake a worker for the order. A broker outage loses nothing: the sweeper re-enqueues."""
    from orders import tasks

    try:
        tasks.forward_order.delay(order_id)
    except Exception:
        logger.exception("Could not enqueue order %s; the sweeper will pick it up", order_id)


def _insert(order: Order, *, guard_link: bool) -> bool:
    """INSERT the order; with ``guard_link`` only while no active order holds its (service,
    link). False, with nothing written, when one does.

    Why one raw statement: it runs inside every placement's transaction, and the ORM spends
    more CPU compiling an INSERT (and the probe, ten times the query) than PostgreSQL spends
    running both. Run under the link's advisory lock, as its own statement, so its snapshot
    sees every order committed before the lock was granted. SQLite (development) takes the ORM.
    """
    if connection.vendor != "postgresql":
        if guard_link and _link_busy(service_id=order.service_id, link=order.link):
            return False
        order.save(force_insert=True)
        return True
    fields, insert, returning = _insert_sql()
    params = [f.get_db_prep_save(f.pre_save(order, add=True), connection) for f in fields]
    sql = insert
    if guard_link:
        sql += f" WHERE NOT EXISTS ({_active_link_sql()})"
        params += [order.service_id, order.link, *(status.value for status in ACTIVE_LINK)]
    with connection.cursor() as cursor:
        cursor.execute(sql + returning, params)
        row = cursor.fetchone()
    if row is None:
        return False
    order.pk = row[0]
    order._state.adding = False
    order._state.db = connection.alias
    return True


@functools.cache
def _insert_sql() -> tuple[list[Any], str, str]:
    """The order's columns, ``INSERT … SELECT <placeholders>`` and `` RETURNING id`` (built
    once: the casts alone cost more than the statement)."""
    quote = connection.ops.quote_name
    fields = [f for f in Order._meta.concrete_fields if not f.primary_key]
    # Casts: in INSERT … SELECT an untyped NULL would otherwise be text, not the column's type.
    select = ", ".join(f"%s::{f.cast_db_type(connection)}" for f in fields)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    insert = f"INSERT INTO {quote(Order._meta.db_table)} ({columns}) SELECT {select}"
    return fields, insert, f" RETURNING {quote(str(Order._meta.pk.column))}"


def _active_link_sql() -> str:
    """An index-only probe (order_active_link) for an active order on (service, link)."""
    quote = connection.ops.quote_name
    column = {f.name: quote(f.column or f.attname) for f in Order._meta.concrete_fields}
    statuses = ", ".join(["%s"] * len(ACTIVE_LINK))
    return (
        f"SELECT 1 FROM {quote(Order._meta.db_table)} "  # noqa: S608 (model identifiers)
        f"WHERE {column['service']} = %s AND {column['link']} = %s "
        f"AND {column['status']} IN ({statuses})"
    )


def _link_busy(*, service_id: int, link: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_active_link_sql()} LIMIT 1",
            [service_id, link, *(status.value for status in ACTIVE_LINK)],
        )
        return cursor.fetchone() is not None


def _advisory_lock(name: str) -> None:
    """A transaction-scoped PostgreSQL lock on a name (no-op elsewhere); released at commit."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
        )


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
