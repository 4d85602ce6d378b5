"""Batched status sync: per provider, 100 orders per ``status`` call, bulk DB updates.

Only open orders are polled, recent ones on every run and older ones less often. Statuses never
move backwards, unknown spellings are recorded and otherwise ignored, and refunds go through
``order_refund`` (once per order, backed by the ledger's unique key).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal

from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from catalog.models import Provider, Service
from orders import states
from orders.models import Order
from orders.services.forwarding import client_for
from orders.services.refunds import orders_refund_many
from orders.services.settlement import expected_cost, settle
from orders.services.subscriptions import (
    PostsCharge,
    subscription_charge_posts,
    subscription_pause,
)
from orders.states import (
    FINAL,
    POLLABLE,
    RANK,
    ReviewReason,
    order_move,
    orders_move,
    orders_record,
)
from panel.money import fits_money, money
from panel.smmapi import (
    ItemError,
    NotDelivered,
    OrderState,
    OrderStatus,
    Rejected,
    RejectReason,
    SMMClient,
    UnknownOutcome,
)
from panel.smmapi.protocol import MAX_IDS_PER_REQUEST, ServiceType

logger = logging.getLogger(__name__)

S = Order.Status
SUBSCRIPTIONS = ServiceType.SUBSCRIPTIONS.value
_MAP = {
    OrderState.PENDING: S.SENT,
    OrderState.IN_PROGRESS: S.IN_PROGRESS,
    OrderState.COMPLETED: S.COMPLETED,
    OrderState.PARTIAL: S.PARTIAL,
    OrderState.CANCELED: S.CANCELED,
    OrderState.ACTIVE: S.ACTIVE,
    OrderState.PAUSED: S.PAUSED,
    OrderState.EXPIRED: S.EXPIRED,
}
# Polling tiers: orders younger than an hour every run; younger than a day every 5 minutes;
# the rest every 30 minutes.
RECENT = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
DAY_INTERVAL = dt.timedelta(minutes=5)
OLD_INTERVAL = dt.timedelta(minutes=30)
LOCK_SECONDS = 600
# Written for every polled row; the status moves with them through orders.states.orders_record.
_FIELDS = [
    "upstream_status",
    "start_count",
    "remains",
    "cost",
    "last_polled_at",
    "finished_at",
    "last_error",
    "charge",
    "posts_delivered",
    "cancel_status",
    "customer_message",
    "provider_refunded",
    "updated_at",
]


# Columns read besides those written (an unlisted one would cost a query per row).
_READ = [
    "status",
    "user_id",
    "service_id",
    "type",
    "fields",
    "quantity",
    "runs",
    "rate",
    "refunded",
    "upstream_order_id",
    "review_data",
    "review_reason",
]
# Held unlimited subscriptions whose cancel did not surely happen are still polled: the
# provider may keep delivering, and the posts it reports are charged or counted as owed.
_STILL_DELIVERING = Q(status=S.NEEDS_REVIEW, review_reason=ReviewReason.UNBILLED_POSTS)


@dataclass
class SyncStats:
    polled: int = 0
    changed: int = 0
    finished: int = 0
    refunds: int = 0
    item_errors: int = 0
    calls: int = 0
    failed_calls: int = 0
    unrecordable: int = 0

    def add(self, other: SyncStats) -> None:
        for counter in fields(self):
            setattr(self, counter.name, getattr(self, counter.name) + getattr(other, counter.name))


def due_orders(*, provider_id: int, now: dt.datetime) -> QuerySet[Order]:
    """Open orders of the provider that are due for a poll."""
    return Order.objects.filter(
        Q(last_polled_at__isnull=True)
        | Q(created_at__gte=now - RECENT)
        | Q(created_at__gte=now - DAY, last_polled_at__lt=now - DAY_INTERVAL)
        | Q(last_polled_at__lt=now - OLD_INTERVAL),
        Q(status__in=POLLABLE) | _STILL_DELIVERING,
        provider_id=provider_id,
    ).exclude(upstream_order_id="")


def providers_with_open_orders() -> list[int]:
    return list(
        Order.objects.filter(Q(status__in=POLLABLE) | _STILL_DELIVERING, provider__is_enabled=True)
        .order_by()
        .values_list("provider_id", flat=True)
        .distinct()
    )


def orders_sync_statuses(*, provider_id: int, now: dt.datetime | None = None) -> SyncStats:
    """Poll the provider for every due open order, 100 per call, and record what changed."""
    now = now or timezone.now()
    stats = SyncStats()
    lock = f"orders:status-sync:{provider_id}"
    # One sync per provider at a time: two would poll twice and fight over the same rows.
    if not cache.add(lock, "1", LOCK_SECONDS):
        logger.info("Status sync of provider %s is already running", provider_id)
        return stats
    try:
        provider = Provider.objects.get(pk=provider_id)
        rows = list(
            due_orders(provider_id=provider_id, now=now)
            .order_by("id")
            .values_list("pk", "upstream_order_id")
        )
        with client_for(provider) as client:
            for chunk in _chunks(rows, MAX_IDS_PER_REQUEST):
                if not _poll(client, provider, chunk, stats):
                    break
        if not stats.failed_calls:
            # For /readyz and /metrics: every due order of this provider was polled.
            Provider.objects.filter(pk=provider_id).update(last_status_sync_at=timezone.now())
    finally:
        cache.delete(lock)
    return stats


def _poll(
    client: SMMClient, provider: Provider, chunk: Sequence[tuple[int, str]], stats: SyncStats
) -> bool:
    """Poll and record one chunk; False when the provider is down and this run should stop.

    Some panels refuse a whole multi-id call ("Incorrect order ID") for one id they do not
    know: the chunk is halved until that id is alone, and the refusal is recorded on that order
    only, so one bad id cannot keep the provider's other orders from being polled.
    """
    stats.calls += 1
    try:
        answers = client.statuses([upstream for _pk, upstream in chunk])
    except Rejected as exc:
        if exc.reason is not RejectReason.BAD_ORDER_ID:
            # Refused as a whole (a bad key, rate limited, "Incorrect request"): not an order's
            # fault; the next run will try again.
            stats.failed_calls += 1
            logger.warning("Status sync of provider %s refused: %s", provider.pk, exc)
            return False
        if len(chunk) > 1:
            half = len(chunk) // 2
            return _poll(client, provider, chunk[:half], stats) and _poll(
                client, provider, chunk[half:], stats
            )
        answers = {chunk[0][1]: ItemError(message=exc.message, reason=exc.reason)}
    except (NotDelivered, UnknownOutcome) as exc:
        # The provider is down or its answers are unreadable; the next run will try again.
        stats.failed_calls += 1
        logger.warning("Status sync of provider %s failed: %s", provider.pk, exc)
        return False
    _apply(provider, chunk, answers, stats)
    return True


def _chunks(rows: list[tuple[int, str]], size: int) -> Iterator[list[tuple[int, str]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _apply(
    provider: Provider,
    chunk: Sequence[tuple[int, str]],
    answers: dict[str, OrderStatus | ItemError],
    stats: SyncStats,
) -> None:
    """Record one answer batch. One bad row (a value the database refuses, a bug on an odd
    answer) must not stall the provider: the batch is redone row by row, and a row that still
    fails is flagged for staff while the others are recorded."""
    try:
        stats.add(_apply_batch(provider, chunk, answers))
        return
    except (OperationalError, InterfaceError):
        # The database itself is unreachable: no row is to blame; the next run retries.
        raise
    except Exception as exc:
        if len(chunk) == 1:
            logger.exception("Status sync: order %s could not be recorded", chunk[0][0])
            _flag_unrecordable(chunk[0][0], answers.get(chunk[0][1]), exc)
            stats.unrecordable += 1
            return
        logger.warning("Status sync batch failed (%s); recording it row by row", exc)
    for row in chunk:
        _apply(provider, [row], answers, stats)


def _flag_unrecordable(
    order_id: int, answer: OrderStatus | ItemError | None, exc: Exception
) -> None:
    """Hold the order for staff with what the provider said (it stops being polled)."""
    raw = answer.raw_status if isinstance(answer, OrderStatus) else None
    note = f"Status sync could not record the provider's answer ({raw!r}): {exc}"[:2000]
    data: dict[str, object] = {"provider_status": raw, "error": str(exc)[:500]}
    if isinstance(answer, OrderStatus):
        data.update(
            start_count=answer.start_count,
            remains=answer.remains,
            charge=None if answer.charge is None else str(answer.charge),
        )
    moved = orders_move(
        where=Q(pk=order_id),
        expect=POLLABLE,
        to=S.NEEDS_REVIEW,
        last_error=note,
        last_polled_at=timezone.now(),
        review_reason=ReviewReason.PROVIDER_FLAGGED_VALUE,
        review_data=data,
    )
    if not moved:
        Order.objects.filter(pk=order_id).update(last_error=note, last_polled_at=timezone.now())


@dataclass
class _Batch:
    """What one batch will write besides the polled columns."""

    service_ids: set[int]
    refunds: list[tuple[Order, Decimal, str]] = field(default_factory=list)
    moves: dict[int, states.OrderStatus] = field(default_factory=dict)
    holds: list[tuple[Order, Hold]] = field(default_factory=list)
    owed: list[tuple[Order, PostsCharge]] = field(default_factory=list)
    rates: dict[int, Decimal] | None = None

    def upstream_rate(self, order: Order) -> Decimal:
        """The service's provider rate, read for the whole batch when first needed (only a
        settling order with no charge reported yet needs it)."""
        if self.rates is None:
            self.rates = dict(
                Service.objects.filter(pk__in=self.service_ids).values_list("pk", "upstream_rate")
            )
        return Decimal(self.rates[order.service_id])


@dataclass(frozen=True)
class Hold:
    reason: ReviewReason
    note: str
    data: dict[str, object]


def _apply_batch(
    provider: Provider,
    chunk: Sequence[tuple[int, str]],
    answers: dict[str, OrderStatus | ItemError],
) -> SyncStats:
    now = timezone.now()
    stats = SyncStats()
    exchange_rate = Decimal(provider.exchange_rate)
    with transaction.atomic():
        _commit_without_flush()
        # Locked so that a concurrent writer (a cancel, a staff action) cannot be overwritten
        # by the bulk update below. Selected by id alone and the status checked here: with a
        # status condition PostgreSQL may walk the whole status index for the open orders.
        locked = (
            Order.objects.select_for_update()
            .filter(pk__in=[pk for pk, _upstream in chunk])
            .only(*_FIELDS, *_READ)
            .order_by("pk")
        )
        orders = [order for order in locked if _still_polled(order)]
        batch = _Batch(service_ids={order.service_id for order in orders})
        for order in orders:
            stats.polled += 1
            answer = answers.get(order.upstream_order_id)
            order.last_polled_at = now
            order.updated_at = now
            if answer is None or isinstance(answer, ItemError):
                stats.item_errors += 1
                order.last_error = f"Status: {answer.message if answer else 'missing in answer'}"
            elif _update(order, answer, exchange_rate, stats, batch):
                stats.changed += 1
        # The rows are locked: every polled column and every move in one statement.
        orders_record(orders, _FIELDS, batch.moves)
        for order, hold in batch.holds:
            order_move(
                order_id=order.pk,
                expect=order.status,
                to=S.NEEDS_REVIEW,
                last_error=hold.note[:2000],
                review_reason=hold.reason,
                review_data=hold.data,
                updated_at=now,
            )
            logger.warning("Order %s held for review (%s): %s", order.pk, hold.reason, hold.note)
        for order, owed in batch.owed:
            Order.objects.filter(pk=order.pk).update(
                review_data={
                    **order.review_data,
                    "posts_delivered": order.posts_delivered,
                    "owed_posts": owed.owed_posts,
                    "owed": str(owed.owed),
                }
            )
        # Last: a refund locks its customer's row until the commit, and another provider's
        # sync refunding the same customer (a reseller with many orders) waits for it.
        stats.refunds += orders_refund_many(batch.refunds)
    return stats


def _commit_without_flush() -> None:
    """Let this batch's COMMIT return before its WAL reaches the disk (PostgreSQL's
    asynchronous commit, for this transaction only).

    A crash may then forget the last fraction of a second of batches, whole: each one's
    statuses, refunds and ledger rows commit or vanish together, and the orders are polled
    again and settled then, once (the ledger's unique key still holds). Anything committed
    normally afterwards (a customer spending a refund) flushes the WAL before it, so no later
    write can outlive a batch it depends on. The flush was the largest single cost of a batch
    (5-8 ms of ~20 on this machine's disk).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _still_polled(order: Order) -> bool:
    """``due_orders``'s status condition, for a row read under its lock."""
    return order.status in POLLABLE or (
        order.status == S.NEEDS_REVIEW and order.review_reason == ReviewReason.UNBILLED_POSTS
    )


def _update(
    order: Order,
    answer: OrderStatus,
    exchange_rate: Decimal,
    stats: SyncStats,
    batch: _Batch,
) -> bool:
    """Apply one answer to the order in memory; collect its move, refund or hold."""
    before = _snapshot(order)
    if answer.charge is not None and not fits_money(answer.charge * exchange_rate):
        # Held by the client, but not once converted to the panel currency: a flag like those.
        converted = f"charge {answer.charge} × exchange rate {exchange_rate} exceeds our column"
        answer = replace(answer, charge=None, flags=(*answer.flags, converted))
    order.upstream_status = answer.raw_status[:64]
    if answer.flags:
        # Values the client could not hold arrive as None: never written, shown to staff.
        order.last_error = ("The provider sent values we cannot store: " + "; ".join(answer.flags))[
            :2000
        ]
    if answer.start_count is not None:
        order.start_count = answer.start_count
    if answer.remains is not None:
        order.remains = answer.remains
    target = _MAP.get(answer.status)
    charge_after = None if answer.charge is None else money(answer.charge * exchange_rate)
    if charge_after is not None and target not in FINAL:
        # A final answer's charge is net of the provider's refund: booked when settled.
        order.cost = charge_after
    if order.unlimited_posts:
        posts = subscription_charge_posts(order=order, delivered=answer.posts)
        if posts.owed_posts and order.status in (S.SENT, S.ACTIVE):
            subscription_pause(order=order)
            batch.moves[order.pk] = S.PAUSED
            return True
        if order.status == S.NEEDS_REVIEW:
            # Held because its cancel did not surely happen: keep charging, show what is owed.
            if posts.owed_posts != order.review_data.get("owed_posts"):
                batch.owed.append((order, posts))
            return before != _snapshot(order)
        if posts.owed_posts and target in FINAL:
            batch.holds.append(
                (
                    order,
                    Hold(
                        ReviewReason.UNBILLED_POSTS,
                        f"The subscription ended with {posts.owed_posts} post(s) not paid for "
                        f"({posts.owed}).",
                        {"owed_posts": posts.owed_posts, "owed": str(posts.owed)},
                    ),
                )
            )
            return True

    if answer.status is OrderState.FAILED:
        # "Fail"/"Error" means different things at different providers (never sent, stopped
        # halfway, refunded or not): nothing is settled, a person decides.
        hold = Hold(
            ReviewReason.PROVIDER_FAILED,
            f"The provider reports {answer.raw_status!r}; check the order at the provider.",
            {
                "provider_status": answer.raw_status,
                "remains": answer.remains,
                "provider_charge_after": None if charge_after is None else str(charge_after),
            },
        )
        batch.holds.append((order, hold))
        return True
    if target is None or RANK[target] < RANK[order.status] or target == order.status:
        return before != _snapshot(order)
    if order.status == S.PAUSED and target == S.ACTIVE and order.cancel_status:
        # We paused it (balance ran out) and asked for a cancel; upstream has not caught up.
        return before != _snapshot(order)
    undelivered = _undelivered(order, answer)
    if target not in FINAL:
        batch.moves[order.pk] = target
        return True
    if answer.flags and target != S.COMPLETED:
        # A completed order moves no money; any other final answer settles on its numbers.
        batch.holds.append(
            (
                order,
                Hold(
                    ReviewReason.PROVIDER_FLAGGED_VALUE,
                    f"The provider reports {answer.raw_status} with values we cannot store "
                    f"({'; '.join(answer.flags)}). Nothing was settled.",
                    {"provider_status": answer.raw_status, "flags": list(answer.flags)},
                ),
            )
        )
        return True
    if target in (S.PARTIAL, S.EXPIRED) and undelivered is None and not order.unlimited_posts:
        # Without remains the refund is unknown; keep polling until the provider says.
        order.last_error = f"{answer.raw_status} without remains; waiting for a number."
        return before != _snapshot(order)
    charge_before = order.cost
    if charge_before is None:
        charge_before = expected_cost(order, batch.upstream_rate(order), exchange_rate)
    verdict = settle(
        order=order,
        status=target,
        undelivered=undelivered,
        charge_before=charge_before,
        charge_after=charge_after,
        exchange_rate=exchange_rate,
    )
    if verdict.hold:
        batch.holds.append((order, Hold(verdict.hold, verdict.note, verdict.data)))
        return True
    if charge_after is not None:
        order.cost = charge_after
        order.provider_refunded = verdict.provider_refunded
    order.finished_at = timezone.now()
    stats.finished += 1
    batch.moves[order.pk] = target
    if verdict.refund > 0:
        batch.refunds.append((order, verdict.refund, _reason(order, target)))
    return True


def _snapshot(order: Order) -> tuple[object, ...]:
    return (order.start_count, order.remains, order.cost, order.upstream_status, order.last_error)


def _undelivered(order: Order, answer: OrderStatus) -> int | None:
    """Units not delivered: ``remains``, or for a subscription its posts minus those delivered."""
    if answer.remains is not None:
        return answer.remains
    if order.type == SUBSCRIPTIONS and answer.posts is not None:
        return order.units - answer.posts
    return None


def _reason(order: Order, status: str) -> str:
    return f"Order {order.pk} {status}: {order.remains} of {order.units} not delivered"
