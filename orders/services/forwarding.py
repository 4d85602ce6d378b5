"""Forwarding orders upstream: the order row is the outbox, the broker only wakes workers.

Every step is claim (one conditional UPDATE) → call the provider with no transaction open →
record the result (one short transaction). A queued order is claimed by exactly one worker, and
an ``add`` whose outcome is unknown is never sent again without a person deciding.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from catalog.models import Provider
from console.services.notify import Kind, notify
from orders.models import Order
from orders.services.refunds import order_refund
from orders.states import ReviewReason, order_move
from panel.smmapi import NotDelivered, Rejected, RejectReason, SMMClient, UnknownOutcome

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 15 * 60
# Upstream refuses a second active order on a link; try again once the first had time to end.
ACTIVE_LINK_RETRY_SECONDS = 5 * 60
# A provider answering HTTP 429 is not asked again sooner than this.
RATE_LIMIT_RETRY_SECONDS = 30
MAX_ERROR_CHARS = 2000
# More pauses than settings.ORDERS_PROVIDER_PAUSE_LIMIT within this window hold a provider
# paused until staff clear it.
PAUSE_FLAP_WINDOW = dt.timedelta(hours=1)
UPSTREAM_ID_CHARS = Order._meta.get_field("upstream_order_id").max_length or 64


def backoff(attempts: int) -> dt.timedelta:
    """5 s, 10 s, 20 s … capped at 15 minutes."""
    seconds = BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, BACKOFF_MAX_SECONDS))


_clients: dict[tuple[int, str, str], SMMClient] = {}
_clients_lock = threading.Lock()


@contextlib.contextmanager
def client_for(provider: Provider) -> Iterator[SMMClient]:
    """A client for the provider, reused across calls in this process.

    Why: building one costs ~0.1 s (TLS context) and would dominate placement→sent latency.
    The key includes the URL and the encrypted key, so editing the provider takes effect.
    """
    key = (provider.pk, provider.api_url, provider.api_key_encrypted)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            for stale in [k for k in _clients if k[0] == provider.pk]:
                _clients.pop(stale).close()
            client = _clients[key] = SMMClient(provider.api_url, provider.api_key)
    yield client


def order_forward(*, order_id: int) -> str:
    """Send one queued order to its provider; returns the status it ended in.

    Safe to call any number of times, from any number of workers: only the one whose
    conditional UPDATE moves the order from queued to sending calls the provider.
    """
    now = timezone.now()
    if Provider.objects.filter(
        Q(is_paused=True) | Q(is_enabled=False), orders__pk=order_id
    ).exists():
        return ""  # waits queued; the sweeper re-enqueues it once the provider is resumed
    # Why no join in this UPDATE: Django turns a filter on a related table into
    # "WHERE id IN (subquery)", and PostgreSQL does not re-check a subquery after waiting for a
    # concurrent claim's row lock, so two workers could both "claim" the same order.
    claimed = order_move(
        order_id=order_id,
        expect=Order.Status.QUEUED,
        to=Order.Status.SENDING,
        where=Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        sending_since=now,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not claimed:
        # Someone else claimed it, it is not due yet, it was canceled, or the provider is paused.
        return ""
    order = Order.objects.select_related("provider").get(pk=order_id)
    # Our fencing token. Every outcome below is recorded only while the row still carries it:
    # if this call outlived the sweeper's timeout and staff resent the order, a newer attempt
    # owns the row, and our failure must neither refund nor requeue it (a third send).
    attempt = order.attempts
    provider = order.provider
    try:
        with client_for(provider) as client:
            upstream_id = client.add(order.upstream_service_id, order.fields)
    except Exception as exc:
        return order_record_failure(order, attempt, exc)
    return order_record_sent(order, upstream_id, attempt=attempt)


def order_record_failure(order: Order, attempt: int, exc: BaseException) -> str:
    """Record what a failed ``add`` of ``attempt`` means for the order; the status it ended in
    ("" when a newer attempt owns the order). Shared by ``order_forward`` and the batches."""
    if isinstance(exc, NotDelivered):
        return _retry_later(order, attempt, exc.message, backoff(attempt))
    if isinstance(exc, Rejected):
        return _rejected(order, attempt, exc)
    if isinstance(exc, UnknownOutcome):
        detail = f"{exc.message} (HTTP {exc.http_status}): {exc.body_head}"
        return _needs_review(
            order,
            attempt,
            f"Unknown outcome of add; it may exist upstream. {detail}",
            ReviewReason.UNKNOWN_OUTCOME,
        )
    # A bug, or Celery's soft time limit, after the claim: we cannot tell whether the
    # request left, so it is treated like an unknown outcome.
    logger.error("Forwarding order %s failed unexpectedly", order.pk, exc_info=exc)
    return _needs_review(
        order,
        attempt,
        f"Unexpected error while sending: {exc!r}",
        ReviewReason.UNKNOWN_OUTCOME,
    )


def order_record_sent(order: Order, upstream_id: str, *, attempt: int) -> str:
    """Record that the provider accepted ``attempt`` as ``upstream_id``; the status it ended in."""
    # Logged before the write: if the database fails now, the id is still findable.
    logger.info("Order %s accepted upstream as %s (attempt %s)", order.pk, upstream_id, attempt)
    if len(upstream_id) > UPSTREAM_ID_CHARS:
        # The order exists upstream but we cannot poll it under a cut id (it would be another
        # order's, or none): staff see the whole id and settle it by hand.
        return _needs_review(
            order,
            attempt,
            f"The provider answered an order id of {len(upstream_id)} characters, longer than "
            f"the {UPSTREAM_ID_CHARS} we store; the full id is in the review data.",
            ReviewReason.UPSTREAM_ID_TOO_LONG,
            data={"upstream_order_id": upstream_id},
            late=True,
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            # Not fenced by attempt: an order that exists upstream is recorded whichever
            # attempt created it, as long as no upstream id is recorded yet. NEEDS_REVIEW too:
            # the sweeper may have given up on a slow call that then succeeded.
            recorded = order_move(
                order_id=order.pk,
                expect=(Order.Status.SENDING, Order.Status.NEEDS_REVIEW),
                to=Order.Status.SENT,
                where=Q(upstream_order_id=""),
                upstream_order_id=upstream_id,
                sent_at=now,
                sending_since=None,
                last_error="",
                review_reason=ReviewReason.NONE,
                review_data={},
                updated_at=now,
            )
            if recorded:
                # A cancel asked while the order was being sent was recorded, not refused:
                # it goes out now that the provider knows the order.
                _forward_pending_cancel(order.pk)
    except IntegrityError:
        return _needs_review(
            order,
            attempt,
            f"The provider answered order id {upstream_id}, already used by another order.",
            ReviewReason.DUPLICATE_UPSTREAM_ID,
            data={"upstream_order_id": upstream_id},
            late=True,
        )
    if (
        not recorded
        and not Order.objects.filter(pk=order.pk, upstream_order_id=upstream_id).exists()
    ):
        # Not when the order already carries this id: an earlier recording of the same answer
        # committed (a retry after a lost connection), and nothing is untracked.
        _alert_unrecorded(order.pk, upstream_id)
    return Order.Status.SENT


def _forward_pending_cancel(order_id: int) -> None:
    if Order.objects.filter(pk=order_id, cancel_status=Order.CancelStatus.REQUESTED).exists():
        forward_pending_cancel_on_commit(order_id)


def forward_pending_cancel_on_commit(order_id: int) -> None:
    """Send the cancel asked while the order was being sent, once the sent order is committed."""
    from orders.services.cancels import enqueue_cancel

    transaction.on_commit(lambda: enqueue_cancel(order_id))


def _alert_unrecorded(order_id: int, upstream_id: str) -> None:
    """An add succeeded but the order had moved on (sent by another attempt, or canceled and
    refunded by staff): the provider holds an order we do not track. A person must cancel it."""
    current = Order.objects.filter(pk=order_id).values_list("status", "upstream_order_id").first()
    status, recorded = current or ("missing", "")
    subject = f"Order {order_id}: untracked upstream order {upstream_id}"
    message = (
        f"The provider accepted order {upstream_id} for our order {order_id}, but that order "
        f"is now {status!s} with upstream id {recorded or '(none)'}. The provider holds an order "
        "we do not track (a duplicate, or one of a canceled and refunded order): check it at "
        "the provider and cancel it there."
    )
    logger.error(message)
    notify(
        kind=Kind.UNRECORDED,
        subject_key=f"order:{order_id}",
        title=subject,
        body=message,
        link=reverse("admin:orders_order_change", args=[order_id]),
    )


def _retry_later(order: Order, attempt: int, error: str, delay: dt.timedelta) -> str:
    from orders.services.placement import enqueue_forward_later

    now = timezone.now()
    requeued = order_move(
        order_id=order.pk,
        expect=Order.Status.SENDING,
        to=Order.Status.QUEUED,
        attempt=attempt,
        next_attempt_at=now + delay,
        sending_since=None,
        last_error=error[:MAX_ERROR_CHARS],
        updated_at=now,
    )
    if not requeued:
        return ""
    enqueue_forward_later(order.pk, delay)
    return Order.Status.QUEUED


def _needs_review(
    order: Order,
    attempt: int,
    error: str,
    reason: ReviewReason,
    *,
    data: dict[str, object] | None = None,
    late: bool = False,
) -> str:
    """Hold the order for staff. ``late``: the answer came after the sweeper had already given
    up on this attempt (needs review, no upstream id); it still adds what we learnt."""
    now = timezone.now()
    details: dict[str, Any] = {
        "sending_since": None,
        "last_error": error[:MAX_ERROR_CHARS],
        "review_reason": reason,
        "review_data": data or {},
        "updated_at": now,
    }
    reviewed = order_move(
        order_id=order.pk,
        expect=Order.Status.SENDING,
        to=Order.Status.NEEDS_REVIEW,
        attempt=attempt,
        **details,
    )
    if not reviewed and late:
        reviewed = (
            Order.objects.filter(
                pk=order.pk,
                status=Order.Status.NEEDS_REVIEW,
                attempts=attempt,
                upstream_order_id="",
            ).update(**details)
            == 1
        )
    logger.warning("Order %s needs review: %s", order.pk, error[:200])
    return Order.Status.NEEDS_REVIEW if reviewed else ""


def _rejected(order: Order, attempt: int, exc: Rejected) -> str:
    if exc.reason in (RejectReason.NOT_ENOUGH_FUNDS, RejectReason.BAD_KEY):
        # Our account's problem, not the order's: keep it queued and stop sending to this
        # provider until an admin adds funds or fixes the key.
        provider_pause(provider=order.provider, reason=exc.message)
        now = timezone.now()
        requeued = order_move(
            order_id=order.pk,
            expect=Order.Status.SENDING,
            to=Order.Status.QUEUED,
            attempt=attempt,
            next_attempt_at=None,
            sending_since=None,
            last_error=exc.message[:MAX_ERROR_CHARS],
            updated_at=now,
        )
        return Order.Status.QUEUED if requeued else ""
    if exc.reason is RejectReason.ACTIVE_ORDER:
        delay = dt.timedelta(seconds=ACTIVE_LINK_RETRY_SECONDS)
        return _retry_later(order, attempt, exc.message, delay)
    if exc.reason is RejectReason.RATE_LIMITED:
        # Refused for now (HTTP 429): nothing was created upstream, so sending again is safe.
        delay = max(backoff(attempt), dt.timedelta(seconds=RATE_LIMIT_RETRY_SECONDS))
        return _retry_later(order, attempt, exc.message, delay)
    return order_fail(order=order, attempt=attempt, error=exc.message)


def order_fail(*, order: Order, attempt: int, error: str) -> str:
    """Definitive rejection of ``attempt``: failed, refunded in full, the provider's words kept
    for the admin. Does nothing if a newer attempt owns the order."""
    now = timezone.now()
    with transaction.atomic():
        failed = order_move(
            order_id=order.pk,
            expect=Order.Status.SENDING,
            to=Order.Status.FAILED,
            attempt=attempt,
            sending_since=None,
            finished_at=now,
            last_error=error[:MAX_ERROR_CHARS],
            customer_message="The provider could not accept this order; it was refunded in full.",
            updated_at=now,
        )
        if not failed:
            return ""
        order_refund(order=order, amount=order.charge, reason=f"Order {order.pk} failed")
    return Order.Status.FAILED


def provider_pause(*, provider: Provider, reason: str) -> None:
    """Stop forwarding to a provider and alert the admins (once per hour of pauses).

    The sweeper resumes a paused provider once its balance covers the oldest waiting order.
    A provider paused more than ``ORDERS_PROVIDER_PAUSE_LIMIT`` times within an hour is
    flapping (its balance check and its ``add`` disagree, or a sentence keeps pausing it):
    it is held paused until staff clear it, with one alert.
    """
    now = timezone.now()
    with transaction.atomic():
        row = (
            Provider.objects.select_for_update()
            .filter(pk=provider.pk)
            .values("is_paused", "pauses_since", "pause_count", "pause_held")
            .first()
        )
        if row is None or row["is_paused"]:
            return
        since, count = row["pauses_since"], row["pause_count"] + 1
        if since is None or since < now - PAUSE_FLAP_WINDOW:
            since, count = now, 1
        held = row["pause_held"] or count > settings.ORDERS_PROVIDER_PAUSE_LIMIT
        Provider.objects.filter(pk=provider.pk).update(
            is_paused=True,
            paused_reason=reason[:255],
            pauses_since=since,
            pause_count=count,
            pause_held=held,
        )
    if held and not row["pause_held"]:
        _alert_provider_held(provider, reason, count)
    elif count == 1:
        _alert_provider_paused(provider, reason)
    else:
        logger.warning("Provider %s paused again (%s in the hour): %s", provider.pk, count, reason)


def _alert_provider_paused(provider: Provider, reason: str) -> None:
    subject = f"Provider {provider.name} paused: {reason[:100]}"
    message = (
        f"The provider {provider.name} refused an order: {reason}\n\n"
        "Orders for it stay queued. They go out once its balance covers them again "
        "(checked by the sweeper) or when you clear “paused” on the provider."
    )
    logger.error(subject)
    funds = "funds" in reason.lower()
    notify(
        kind=Kind.OUT_OF_FUNDS if funds else Kind.PROVIDER_PAUSED,
        subject_key=f"provider:{provider.pk}",
        title=subject,
        body=message,
        link=reverse("admin:catalog_provider_change", args=[provider.pk]),
    )


def _alert_provider_held(provider: Provider, reason: str, count: int) -> None:
    subject = f"Provider {provider.name} held paused: paused {count} times in an hour"
    message = (
        f"The provider {provider.name} was paused {count} times within an hour; the last "
        f"refusal: {reason}\n\n"
        "It is no longer resumed automatically. Orders for it stay queued until you check the "
        "provider (its balance, its key, what it answers) and clear “paused” on it."
    )
    logger.error(subject)
    notify(
        kind=Kind.PROVIDER_PAUSED,
        subject_key=f"provider:{provider.pk}:held",
        title=subject,
        body=message,
        link=reverse("admin:catalog_provider_change", args=[provider.pk]),
    )


def provider_resume(*, provider_id: int) -> bool:
    """Clear a provider's pause (the sweeper, once funds are back); queued orders are then
    picked up by the sweeper. A provider held paused for flapping waits for staff."""
    return (
        Provider.objects.filter(pk=provider_id, is_paused=True, pause_held=False).update(
            is_paused=False, paused_reason=""
        )
        == 1
    )
