"""Forwarding in batches: a worker drains one provider's due orders at a time.

Placement does not enqueue a message per order. It raises the provider's wake flag (one Redis
``SET NX``) and only the order that finds the flag down sends a message, ``forward_provider``.
The worker keeps the flag up while it works and repeats until nothing is due (lingering
``ORDERS_FORWARD_LINGER_SECONDS`` for orders arriving one by one), then lowers it:

1. claim up to ``ORDERS_FORWARD_BATCH_SIZE`` due orders of the provider in one
   ``UPDATE … RETURNING`` (queued → sending, attempts + 1: the fencing token);
2. call ``add`` for them with no transaction open, at most ``ORDERS_FORWARD_CONCURRENCY`` at a
   time, on threads sharing the provider's one client (its pool keeps the connections alive);
3. record every accepted order in one UPDATE (sending → sent); every other outcome goes through
   the same per-order handlers as ``order_forward`` (retry later, failed and refunded, needs
   review), fenced by the attempt.

Because the flag is lowered before the last, empty claim, an order committed while the flag was
up is seen by that claim, and a later one finds the flag down and sends a new message. A web
process that saw the flag up less than ``WAKE_TRUST_SECONDS`` ago does not ask Redis again: the
drain that lowers the flag after that sighting waits as long before its last claim, so the
claim still sees the order. A lost
message costs latency only: the sweeper still finds queued orders. Two workers (or two hosts)
draining one provider claim disjoint rows (``FOR UPDATE SKIP LOCKED``): no order is sent twice.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.models import Provider
from orders.models import Order
from orders.services import forwarding
from orders.states import TRANSITIONS, ReviewReason, check_move, order_move
from panel.broker import cache_client
from panel.smmapi import SMMClient

logger = logging.getLogger(__name__)

# Longer than a worker takes to pick a message up; a flag left up by a lost message only
# delays the next one by this much (the sweeper covers the rest).
WAKE_SECONDS = 10


# How long a batch's results are kept trying to reach the database before the worker gives up.
RECORD_RETRY_SECONDS = 60


def _wake_key(provider_id: int) -> str:
    return f"forward-wake:{provider_id}"


# How long a web process trusts a wake flag it saw up; a drain waits as long between lowering
# the flag and its last claim. Under load, most orders of a busy provider skip the round trip.
WAKE_TRUST_SECONDS = 0.1

# Provider id → time.monotonic() just before this process last saw the provider's flag up.
_flag_seen_up: dict[int, float] = {}


def forget_wake_flags() -> None:
    """Forget the flags this process saw up (tests: each starts with an empty Redis)."""
    _flag_seen_up.clear()


def provider_wake(provider_id: int) -> None:
    """Ask a worker to drain the provider's due orders; one message per burst of orders.

    Called after commit. A broker or cache outage loses nothing: the sweeper finds the order.
    """
    from orders import tasks

    try:
        cache = caches["default"]
        if isinstance(cache, RedisCache):
            asked = time.monotonic()
            seen = _flag_seen_up.get(provider_id)
            if seen is not None and asked - seen < WAKE_TRUST_SECONDS:
                # The flag was up at `seen`: a drain that lowered it since then waits
                # WAKE_TRUST_SECONDS before its last claim, which sees this committed order.
                return
            raised = cache_client(cache).set(
                cache.make_key(_wake_key(provider_id)), 1, nx=True, ex=WAKE_SECONDS
            )
            _flag_seen_up[provider_id] = asked  # up now, whoever raised it
            if not raised:
                return  # a message is on its way, and its worker has not lowered the flag yet
        tasks.forward_provider.delay(provider_id)
    except Exception:
        logger.exception("Could not wake a worker for provider %s; the sweeper will", provider_id)


def _raise_wake_flag(provider_id: int) -> None:
    _set_wake_flag(provider_id, up=True)


def _lower_wake_flag(provider_id: int) -> None:
    _set_wake_flag(provider_id, up=False)


def _set_wake_flag(provider_id: int, *, up: bool) -> None:
    # Best effort: with Redis away, orders placed meanwhile send a message each (or wait for
    # the sweeper); a forwarder holding claimed orders must still send and record them.
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return
    key = cache.make_key(_wake_key(provider_id))
    try:
        if up:
            cache_client(cache).set(key, 1, ex=WAKE_SECONDS)
        else:
            cache_client(cache).delete(key)
    except Exception:
        logger.warning("Could not set the wake flag of provider %s", provider_id, exc_info=True)


@dataclass(frozen=True)
class Claimed:
    """An order this worker moved to sending, with what its ``add`` needs."""

    id: int
    attempt: int
    upstream_service_id: str
    fields: dict[str, Any]


def orders_claim(*, provider_id: int, limit: int) -> list[Claimed]:
    """Move up to ``limit`` due queued orders of the provider to sending; the ones moved."""
    check_move(TRANSITIONS, Order.Status.QUEUED, Order.Status.SENDING)
    now = timezone.now()
    if connection.vendor != "postgresql":
        return _claim_one_by_one(provider_id=provider_id, limit=limit, now=now)
    quote = connection.ops.quote_name
    table = quote(Order._meta.db_table)
    column = {f.name: quote(str(f.column)) for f in Order._meta.concrete_fields}
    # Why SKIP LOCKED: two workers draining one provider take disjoint rows instead of queueing
    # on each other's locks. FOR UPDATE re-checks the WHERE on the newest version of each row
    # it locks, and the lock is held until the UPDATE: a locked row is still queued.
    # Why a MATERIALIZED CTE and not "id IN (SELECT … LIMIT)": with statistics that have not
    # seen the queued rows yet (a backlog built while the provider was paused), PostgreSQL ran
    # the subquery as the inner side of a semi-join, once per queued row, and the UPDATE
    # claimed every queued order (3,599 instead of 100, in 2.9 s). Computed once, the CTE
    # holds at most ``limit`` ids whatever the plan, and the UPDATE finds them by primary key.
    sql = (
        f"WITH due AS MATERIALIZED (SELECT {column['id']} FROM {table} "  # noqa: S608 (model identifiers; values bound)
        f"WHERE {column['provider']} = %s AND {column['status']} = %s "
        f"AND ({column['next_attempt_at']} IS NULL OR {column['next_attempt_at']} <= %s) "
        f"ORDER BY {column['id']} LIMIT %s FOR UPDATE SKIP LOCKED) "
        f"UPDATE {table} SET {column['status']} = %s, {column['sending_since']} = %s, "
        f"{column['attempts']} = {column['attempts']} + 1, {column['updated_at']} = %s "
        f"FROM due WHERE {table}.{column['id']} = due.{column['id']} "
        f"RETURNING {table}.{column['id']}, {column['attempts']}, {column['upstream_service_id']}, "
        f"{column['fields']}"
    )
    queued, sending = Order.Status.QUEUED.value, Order.Status.SENDING.value
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [provider_id, queued, now, limit, sending, now, now])
        rows = cursor.fetchall()
    return sorted(
        (
            # jsonb arrives as text (Django's psycopg setup leaves decoding to the field).
            Claimed(
                row[0], row[1], row[2], json.loads(row[3]) if isinstance(row[3], str) else row[3]
            )
            for row in rows
        ),
        key=lambda claimed: claimed.id,
    )


def _claim_one_by_one(*, provider_id: int, limit: int, now: Any) -> list[Claimed]:
    # SQLite (development) has one writer at a time: a conditional UPDATE per order is enough.
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    candidates = (
        Order.objects.filter(due, provider_id=provider_id, status=Order.Status.QUEUED)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    claimed = []
    for order_id in list(candidates):
        moved = order_move(
            order_id=order_id,
            expect=Order.Status.QUEUED,
            to=Order.Status.SENDING,
            where=due,
            sending_since=now,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
        if moved:
            row = Order.objects.values("attempts", "upstream_service_id", "fields").get(pk=order_id)
            claimed.append(
                Claimed(order_id, row["attempts"], row["upstream_service_id"], row["fields"])
            )
    return claimed


def provider_forward(*, provider_id: int) -> Counter[str]:
    """Send every due queued order of the provider, in batches; counts orders by outcome.

    Safe to run any number of times at once, on any number of hosts: each order is claimed by
    one run only, and an ``add`` whose outcome is unknown is never repeated.
    """
    outcomes: Counter[str] = Counter()
    batch_size = int(settings.ORDERS_FORWARD_BATCH_SIZE)
    workers = max(1, int(settings.ORDERS_FORWARD_CONCURRENCY))
    linger = float(settings.ORDERS_FORWARD_LINGER_SECONDS)
    idle_since: float | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="forward") as pool:
        # Paused: the flag stays up until it expires, so orders placed meanwhile send one
        # message per WAKE_SECONDS, not one each; the sweeper sends them once it is resumed.
        while provider := _sendable(provider_id):
            batch = orders_claim(provider_id=provider_id, limit=batch_size)
            if not batch:
                now = time.monotonic()
                idle_since = idle_since or now
                if now - idle_since < linger:
                    # Orders arriving one by one: wait a moment and take them as a batch,
                    # while the flag is up and they send no message.
                    time.sleep(min(0.05, linger))
                    continue
                # Lowered before the last claim: an order committed while it was up is seen
                # by that claim; any later one finds it down and sends a message, or was
                # placed by a process that saw it up within WAKE_TRUST_SECONDS and sent none:
                # the wait lets the claim see those too.
                _lower_wake_flag(provider_id)
                time.sleep(WAKE_TRUST_SECONDS)
                batch = orders_claim(provider_id=provider_id, limit=batch_size)
                if not batch:
                    break
            idle_since = None
            _raise_wake_flag(provider_id)  # still draining: no message needed
            with forwarding.client_for(provider) as client:
                results = list(pool.map(lambda claimed: _add(client, claimed), batch))
            outcomes.update(_record_retrying(provider, batch, results))
    return outcomes


def _record_retrying(
    provider: Provider, batch: Sequence[Claimed], results: Sequence[str | BaseException]
) -> Counter[str]:
    """``_record``, again on a fresh connection when the database goes away meanwhile.

    Why: the provider's answers are in hand. Giving up would leave the whole claimed batch in
    sending until the sweeper moves it to needs review, every order a person must attach by
    hand. Recording is idempotent (conditional updates, one refund per order by the ledger's
    key), and an order the sweeper moved to review meanwhile is still recorded as sent.
    """
    deadline = time.monotonic() + RECORD_RETRY_SECONDS
    delay = 0.5
    while True:
        try:
            return _record(provider, batch, results)
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() + delay > deadline:
                raise
            logger.warning(
                "Recording a batch of provider %s failed (%s); retrying in %.1f s",
                provider.pk,
                exc,
                delay,
            )
            connection.close()
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _sendable(provider_id: int) -> Provider | None:
    provider = Provider.objects.filter(pk=provider_id).first()
    if provider is None or provider.is_paused or not provider.is_enabled:
        return None
    return provider


def _add(client: SMMClient, claimed: Claimed) -> str | BaseException:
    """The upstream id, or what went wrong; runs on a pool thread and touches no database."""
    try:
        return client.add(claimed.upstream_service_id, claimed.fields)
    except Exception as exc:  # mapped to an outcome by the caller, on the worker's thread
        return exc


def _record(
    provider: Provider, batch: Sequence[Claimed], results: Sequence[str | BaseException]
) -> Counter[str]:
    accepted = {
        claimed.id: result
        for claimed, result in zip(batch, results, strict=True)
        if isinstance(result, str) and len(result) <= forwarding.UPSTREAM_ID_CHARS
    }
    outcomes: Counter[str] = Counter()
    recorded: set[int] = set()
    if accepted:
        for order_id, upstream_id in accepted.items():
            # Logged before the write: if the database fails now, the ids are still findable.
            logger.info("Order %s accepted upstream as %s", order_id, upstream_id)
        try:
            recorded = _record_sent(accepted)
        except IntegrityError:
            # One of the ids is already another order's: record one by one, so only that
            # order goes to review.
            recorded = set()
    for claimed, result in zip(batch, results, strict=True):
        if claimed.id in recorded:
            outcomes[Order.Status.SENT] += 1
            continue
        order = Order.objects.select_related("provider").get(pk=claimed.id)
        if isinstance(result, str):
            status = forwarding.order_record_sent(order, result, attempt=claimed.attempt)
        else:
            status = forwarding.order_record_failure(order, claimed.attempt, result)
        outcomes[status or "superseded"] += 1
    return outcomes


def _record_sent(accepted: dict[int, str]) -> set[int]:
    """sending (or needs review, if the sweeper gave up meanwhile) → sent, in one UPDATE; the
    ids recorded. Not fenced by attempt, like ``order_forward``: an order that exists upstream
    is recorded whichever attempt created it, as long as no upstream id is recorded yet.

    Why raw SQL: one statement with two array parameters; the ORM's CASE per row cost more
    CPU than the provider calls of the batch. SQLite (development) records one by one.
    """
    expected = check_move(
        TRANSITIONS, (Order.Status.SENDING, Order.Status.NEEDS_REVIEW), Order.Status.SENT
    )
    if connection.vendor != "postgresql":
        return set()
    now = timezone.now()
    quote = connection.ops.quote_name
    column = {f.name: quote(str(f.column)) for f in Order._meta.concrete_fields}
    review_data = Order._meta.get_field("review_data").get_db_prep_save({}, connection)
    sql = (
        f"UPDATE {quote(Order._meta.db_table)} AS o SET {column['status']} = %s, "  # noqa: S608 (model identifiers; values bound)
        f"{column['upstream_order_id']} = v.upstream, {column['sent_at']} = %s, "
        f"{column['sending_since']} = NULL, {column['last_error']} = '', "
        f"{column['review_reason']} = %s, {column['review_data']} = %s, "
        f"{column['updated_at']} = %s "
        "FROM unnest(%s::bigint[], %s::text[]) AS v(id, upstream) "
        f"WHERE o.{column['id']} = v.id AND o.{column['status']} = ANY(%s) "
        f"AND o.{column['upstream_order_id']} = '' "
        f"RETURNING o.{column['id']}, o.{column['cancel_status']}"
    )
    params = [
        Order.Status.SENT.value,
        now,
        ReviewReason.NONE.value,
        review_data,
        now,
        list(accepted),
        list(accepted.values()),
        list(expected),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        for order_id, cancel_status in rows:
            if cancel_status == Order.CancelStatus.REQUESTED:
                # A cancel asked while the order was being sent goes out now.
                forwarding.forward_pending_cancel_on_commit(order_id)
    return {order_id for order_id, _ in rows}
