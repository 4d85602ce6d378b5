"""Batched status sync: per provider, 100 orders per ``status`` call, bulk DB updates.

Only open orders are polled, recent ones on every run and older ones less often. Statuses never
move backwards, unknown spellings are recorded and otherwise ignored, and refunds go through
``order_refund`` (once per order, backed by the ledger's unique key).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from catalog.models import Provider
from orders.models import Order
from orders.services.bulk import bulk_set
from orders.services.forwarding import client_for
from orders.services.refunds import orders_refund_many, refund_for_remains
from orders.services.subscriptions import subscription_charge_posts
from panel.money import money
from panel.smmapi import ItemError, NotDelivered, OrderState, OrderStatus, Rejected, UnknownOutcome
from panel.smmapi.protocol import MAX_IDS_PER_REQUEST, ServiceType

logger = logging.getLogger(__name__)

S = Order.Status
SUBSCRIPTIONS = ServiceType.SUBSCRIPTIONS.value
OPEN_STATUSES = (S.SENT, S.IN_PROGRESS, S.ACTIVE, S.PAUSED)
FINAL_STATUSES = (S.COMPLETED, S.PARTIAL, S.CANCELED, S.EXPIRED)
# How far along an order is; a status of lower rank never replaces a higher one.
_RANK: dict[str, int] = {
    **{S.SENT: 1, S.IN_PROGRESS: 2, S.ACTIVE: 2, S.PAUSED: 2},
    **dict.fromkeys(FINAL_STATUSES, 3),
}
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
_FIELDS = [
    "status",
    "upstream_status",
    "start_count",
    "remains",
    "cost",
    "last_polled_at",
    "finished_at",
    "last_error",
    "charge",
    "refunded",
    "posts_delivered",
    "cancel_status",
    "customer_message",
    "updated_at",
]


# Columns read besides those written (an unlisted one would cost a query per row).
_READ = ["user_id", "type", "fields", "quantity", "runs", "rate", "upstream_order_id"]


@dataclass
class SyncStats:
    polled: int = 0
    changed: int = 0
    finished: int = 0
    refunds: int = 0
    item_errors: int = 0
    calls: int = 0
    failed_calls: int = 0


def due_orders(*, provider_id: int, now: dt.datetime) -> QuerySet[Order]:
    """Open orders of the provider that are due for a poll."""
    return Order.objects.filter(
        Q(last_polled_at__isnull=True)
        | Q(created_at__gte=now - RECENT)
        | Q(created_at__gte=now - DAY, last_polled_at__lt=now - DAY_INTERVAL)
        | Q(last_polled_at__lt=now - OLD_INTERVAL),
        provider_id=provider_id,
        status__in=OPEN_STATUSES,
    ).exclude(upstream_order_id="")


def providers_with_open_orders() -> list[int]:
    return list(
        Order.objects.filter(status__in=OPEN_STATUSES, provider__is_enabled=True)
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
                stats.calls += 1
                try:
                    answers = client.statuses([upstream for _pk, upstream in chunk])
                except (NotDelivered, Rejected, UnknownOutcome) as exc:
                    # The provider is down or refusing; the next run will try again.
                    stats.failed_calls += 1
                    logger.warning("Status sync of provider %s failed: %s", provider_id, exc)
                    break
                _apply(provider, chunk, answers, stats)
    finally:
        cache.delete(lock)
    return stats


def _chunks(rows: list[tuple[int, str]], size: int) -> Iterator[list[tuple[int, str]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _apply(
    provider: Provider,
    chunk: Sequence[tuple[int, str]],
    answers: dict[str, OrderStatus | ItemError],
    stats: SyncStats,
) -> None:
    now = timezone.now()
    exchange_rate = Decimal(provider.exchange_rate)
    with transaction.atomic():
        # Locked so that a concurrent writer (a cancel, a staff action) cannot be overwritten
        # by the bulk update below.
        orders = list(
            Order.objects.select_for_update(of=("self",))
            .filter(pk__in=[pk for pk, _upstream in chunk], status__in=OPEN_STATUSES)
            .only(*_FIELDS, *_READ)
            .order_by("pk")
        )
        changed: list[Order] = []
        refunds: list[tuple[Order, Decimal, str]] = []
        for order in orders:
            stats.polled += 1
            answer = answers.get(order.upstream_order_id)
            order.last_polled_at = now
            order.updated_at = now
            if answer is None or isinstance(answer, ItemError):
                stats.item_errors += 1
                order.last_error = f"Status: {answer.message if answer else 'missing in answer'}"
            elif _update(order, answer, exchange_rate, stats, refunds):
                stats.changed += 1
            changed.append(order)
        # Refunds first: they set ``refunded`` on the instances that bulk_set then writes.
        stats.refunds += orders_refund_many(refunds)
        bulk_set(changed, _FIELDS)


def _update(
    order: Order,
    answer: OrderStatus,
    exchange_rate: Decimal,
    stats: SyncStats,
    refunds: list[tuple[Order, Decimal, str]],
) -> bool:
    """Apply one answer to the order in memory; collect its refund. True if changed."""
    before = (order.status, order.start_count, order.remains, order.cost, order.upstream_status)
    order.upstream_status = answer.raw_status[:64]
    if answer.start_count is not None:
        order.start_count = answer.start_count
    if answer.remains is not None:
        order.remains = answer.remains
    if answer.charge is not None:
        order.cost = money(answer.charge * exchange_rate)
    if order.unlimited_posts:
        subscription_charge_posts(order=order, delivered=answer.posts)

    target = _MAP.get(answer.status)
    if answer.status is OrderState.FAILED and order.status != S.NEEDS_REVIEW:
        # "Fail"/"Error" means different things at different providers; a person decides.
        order.last_error = f"The provider reports {answer.raw_status!r}; check and resolve."
    if target is None or _RANK[target] < _RANK[order.status] or target == order.status:
        return before != _snapshot(order)
    if order.status == S.PAUSED and target == S.ACTIVE and order.cancel_status:
        # We paused it (balance ran out) and asked for a cancel; upstream has not caught up.
        return before != _snapshot(order)
    undelivered = _undelivered(order, answer)
    if target in (S.PARTIAL, S.EXPIRED) and undelivered is None and not order.unlimited_posts:
        # Without remains the refund is unknown; keep polling until the provider says.
        order.last_error = f"{answer.raw_status} without remains; waiting for a number."
        return before != _snapshot(order)
    order.status = target
    if target in FINAL_STATUSES:
        order.finished_at = timezone.now()
        stats.finished += 1
        refund = _refund_due(order, target, undelivered)
        if refund > 0:
            refunds.append((order, refund, _reason(order)))
    return True


def _snapshot(order: Order) -> tuple[object, ...]:
    return (order.status, order.start_count, order.remains, order.cost, order.upstream_status)


def _undelivered(order: Order, answer: OrderStatus) -> int | None:
    """Units not delivered: ``remains``, or for a subscription its posts minus those delivered."""
    if answer.remains is not None:
        return answer.remains
    if order.type == SUBSCRIPTIONS and answer.posts is not None:
        return order.units - answer.posts
    return None


def _refund_due(order: Order, status: str, undelivered: int | None) -> Decimal:
    if order.unlimited_posts:
        # Charged per delivered post: nothing was paid in advance.
        return Decimal(0)
    if status == S.CANCELED:
        if order.type == SUBSCRIPTIONS and undelivered is not None:
            # A subscription canceled after some posts were delivered: the spec refunds "the
            # part not delivered", never the posts the customer received.
            return refund_for_remains(order, undelivered)
        return Decimal(order.charge)
    if status in (S.PARTIAL, S.EXPIRED) and undelivered is not None:
        return refund_for_remains(order, undelivered)
    return Decimal(0)


def _reason(order: Order) -> str:
    return f"Order {order.pk} {order.status}: {order.remains} of {order.units} not delivered"
