"""The sweeper: finds work whose broker message was lost, and orders stuck mid-send.

The database is the source of truth; this runs every 30 seconds (beat) and is idempotent.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from catalog.models import Provider
from orders.models import Order, Refill
from orders.services.cancels import enqueue_cancel
from orders.services.forwarding import client_for, provider_resume
from orders.services.placement import enqueue_forward
from orders.services.refills import enqueue_refill
from orders.states import POLLABLE, ReviewReason, orders_move, refills_move
from panel.smmapi import NotDelivered, Rejected, UnknownOutcome

logger = logging.getLogger(__name__)

# A just-placed order's own message is probably still in flight; leave it a moment.
GRACE = dt.timedelta(seconds=10)
BATCH = 1000


@dataclass
class SweepStats:
    stuck: int = 0
    requeued: int = 0
    refills_stuck: int = 0
    refills_requeued: int = 0
    cancels_requeued: int = 0
    resumed_providers: int = 0


def orders_sweep(*, now: dt.datetime | None = None) -> SweepStats:
    now = now or timezone.now()
    stats = SweepStats()
    timeout = dt.timedelta(seconds=settings.ORDERS_SENDING_TIMEOUT_SECONDS)

    # A worker died (or hangs) after claiming: the add may or may not have reached the
    # provider, so the order must not be re-sent automatically.
    stats.stuck = orders_move(
        where=Q(sending_since__lt=now - timeout),
        expect=Order.Status.SENDING,
        to=Order.Status.NEEDS_REVIEW,
        sending_since=None,
        last_error="Stuck in sending past the timeout; it may exist upstream.",
        review_reason=ReviewReason.UNKNOWN_OUTCOME,
        updated_at=now,
    )
    if stats.stuck:
        logger.warning("%s order(s) stuck in sending moved to needs review", stats.stuck)
    stats.refills_stuck = refills_move(
        where=Q(sending_since__lt=now - timeout),
        expect=Refill.Status.SENDING,
        to=Refill.Status.NEEDS_REVIEW,
        sending_since=None,
        updated_at=now,
    )

    stats.resumed_providers = _resume_funded_providers()

    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    order_ids = list(
        Order.objects.filter(due, status=Order.Status.QUEUED, created_at__lt=now - GRACE)
        .filter(provider__is_paused=False, provider__is_enabled=True)
        .order_by("id")
        .values_list("pk", flat=True)[:BATCH]
    )
    for order_id in order_ids:
        enqueue_forward(order_id)
    stats.requeued = len(order_ids)

    refill_ids = list(
        Refill.objects.filter(due, status=Refill.Status.QUEUED, created_at__lt=now - GRACE)
        .order_by("id")
        .values_list("pk", flat=True)[:BATCH]
    )
    for refill_id in refill_ids:
        enqueue_refill(refill_id)
    stats.refills_requeued = len(refill_ids)

    # A cancel asked while its order was being sent waits here until the order is sent.
    cancel_ids = list(
        Order.objects.filter(
            cancel_status=Order.CancelStatus.REQUESTED,
            status__in=POLLABLE,
            updated_at__lt=now - GRACE,
        )
        .exclude(upstream_order_id="")
        .values_list("pk", flat=True)[:BATCH]
    )
    for order_id in cancel_ids:
        enqueue_cancel(order_id)
    stats.cancels_requeued = len(cancel_ids)
    return stats


def _resume_funded_providers() -> int:
    """Resume a paused provider once its balance covers the oldest order waiting for it."""
    resumed = 0
    # A provider held paused for flapping waits for staff (see provider_pause).
    for provider in Provider.objects.filter(is_paused=True, is_enabled=True, pause_held=False):
        oldest = (
            Order.objects.filter(provider=provider, status=Order.Status.QUEUED)
            .select_related("service")
            .order_by("id")
            .first()
        )
        if oldest is None:
            resumed += provider_resume(provider_id=provider.pk)
            continue
        try:
            with client_for(provider) as client:
                balance = client.balance().amount
        except (NotDelivered, Rejected, UnknownOutcome) as exc:
            logger.info("Balance check of paused provider %s failed: %s", provider.pk, exc)
            continue
        if balance >= _upstream_cost(oldest):
            logger.info("Provider %s has funds again (%s); resuming", provider.pk, balance)
            resumed += provider_resume(provider_id=provider.pk)
    return resumed


def _upstream_cost(order: Order) -> Decimal:
    """What the provider will charge for the order, in its currency (an estimate)."""
    rate = Decimal(order.service.upstream_rate)
    if order.type in ("Package", "Custom Comments Package"):
        return rate
    units = order.units
    if order.type == "Subscriptions":
        units = order.quantity * int(order.fields.get("max", 0)) if order.quantity else 0
    return rate * units / 1000
