"""Forwarding refill requests upstream and syncing their status (batched, like orders)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.models import Provider
from orders.bulk import bulk_set
from orders.models import Refill
from orders.services.forwarding import RATE_LIMIT_RETRY_SECONDS, backoff, client_for
from orders.states import REFILL_POLLABLE, REFILL_RANK, RefillStatus, refill_move, refills_move
from panel.smmapi import (
    ItemError,
    NotDelivered,
    RefillOutcome,
    RefillState,
    Rejected,
    RejectReason,
    SMMClient,
    UnknownOutcome,
)
from panel.smmapi.protocol import MAX_IDS_PER_REQUEST

logger = logging.getLogger(__name__)

R = Refill.Status
UPSTREAM_REFILL_ID_CHARS = Refill._meta.get_field("upstream_refill_id").max_length or 64
_MAP = {
    RefillOutcome.PENDING: R.PENDING,
    RefillOutcome.IN_PROGRESS: R.IN_PROGRESS,
    RefillOutcome.COMPLETED: R.COMPLETED,
    RefillOutcome.REJECTED: R.REJECTED,
}


def refill_forward(*, refill_id: int) -> str:
    """Send a queued refill upstream (claimed by one worker); returns its new status."""
    now = timezone.now()
    claimed = refills_move(
        where=Q(pk=refill_id) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)),
        expect=R.QUEUED,
        to=R.SENDING,
        sending_since=now,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if claimed != 1:
        return ""
    refill = Refill.objects.select_related("order__provider").get(pk=refill_id)
    try:
        with client_for(refill.order.provider) as client:
            upstream_id = client.refill(refill.order.upstream_order_id)
    except NotDelivered as exc:
        return _record(
            refill_id, R.QUEUED, exc.message, next_attempt_at=now + backoff(refill.attempts)
        )
    except Rejected as exc:
        if exc.reason is RejectReason.RATE_LIMITED:
            # Refused for now (HTTP 429), nothing done upstream: the sweeper sends it again.
            delay = max(backoff(refill.attempts), dt.timedelta(seconds=RATE_LIMIT_RETRY_SECONDS))
            return _record(refill_id, R.QUEUED, exc.message, next_attempt_at=now + delay)
        return _record(refill_id, R.REJECTED, exc.message)
    except UnknownOutcome as exc:
        # A refill may now exist upstream without us knowing its id: a person checks.
        return _record(refill_id, R.NEEDS_REVIEW, f"Unknown outcome: {exc.message} {exc.body_head}")
    if len(upstream_id) > UPSTREAM_REFILL_ID_CHARS:
        # The refill exists upstream, but a cut id would poll another refill (or none): staff
        # see the whole id (the client returns it uncut, up to 1,000 characters).
        return _record(
            refill_id,
            R.NEEDS_REVIEW,
            f"The provider answered a refill id of {len(upstream_id)} characters, longer than "
            f"the {UPSTREAM_REFILL_ID_CHARS} we store: {upstream_id}",
        )
    refill_move(
        refill_id=refill_id,
        expect=R.SENDING,
        to=R.PENDING,
        upstream_refill_id=upstream_id,
        sending_since=None,
        last_error="",
        updated_at=timezone.now(),
    )
    return R.PENDING


def _record(
    refill_id: int, status: RefillStatus, error: str, *, next_attempt_at: dt.datetime | None = None
) -> str:
    refill_move(
        refill_id=refill_id,
        expect=R.SENDING,
        to=status,
        sending_since=None,
        next_attempt_at=next_attempt_at,
        last_error=error[:2000],
        updated_at=timezone.now(),
    )
    return status


def refills_sync_statuses(*, provider_id: int) -> int:
    """Poll ``refill_status`` for the provider's open refills, 100 per call; returns changes."""
    provider = Provider.objects.get(pk=provider_id)
    rows = list(
        Refill.objects.filter(order__provider_id=provider_id, status__in=REFILL_POLLABLE)
        .exclude(upstream_refill_id="")
        .order_by("pk")
        .values_list("pk", "upstream_refill_id")
    )
    polled: list[int] = []
    with client_for(provider) as client:
        for start in range(0, len(rows), MAX_IDS_PER_REQUEST):
            if not _poll(client, provider_id, rows[start : start + MAX_IDS_PER_REQUEST], polled):
                break
    return sum(polled)


def _poll(
    client: SMMClient, provider_id: int, chunk: list[tuple[int, str]], polled: list[int]
) -> bool:
    """Poll and record one chunk; False when the provider is down and this run should stop.

    As with order statuses, a panel that refuses the whole call for one refill id it does not
    know gets the chunk halved until that id is alone: the refusal is recorded on that refill
    only, and the provider's other refills go on being polled.
    """
    try:
        answers = client.refill_statuses([upstream for _pk, upstream in chunk])
    except Rejected as exc:
        if exc.reason is not RejectReason.BAD_ORDER_ID:
            logger.warning("Refill sync of provider %s refused: %s", provider_id, exc)
            return False
        if len(chunk) > 1:
            half = len(chunk) // 2
            return _poll(client, provider_id, chunk[:half], polled) and _poll(
                client, provider_id, chunk[half:], polled
            )
        answers = {chunk[0][1]: ItemError(message=exc.message, reason=exc.reason)}
    except (NotDelivered, UnknownOutcome) as exc:
        logger.warning("Refill sync of provider %s failed: %s", provider_id, exc)
        return False
    polled.append(_apply(chunk, answers))
    return True


def _apply(chunk: list[tuple[int, str]], answers: Mapping[str, RefillState | ItemError]) -> int:
    now = timezone.now()
    polled: list[Refill] = []
    moves: dict[tuple[str, RefillStatus], list[int]] = defaultdict(list)
    with transaction.atomic():
        refills = Refill.objects.select_for_update().filter(
            pk__in=[pk for pk, _u in chunk], status__in=REFILL_POLLABLE
        )
        for refill in refills:
            answer = answers.get(refill.upstream_refill_id)
            refill.last_polled_at = now
            refill.updated_at = now
            if answer is None or isinstance(answer, ItemError):
                refill.last_error = answer.message if answer else "Missing in the answer"
            else:
                target = _MAP.get(answer.status)
                if target is not None and REFILL_RANK[target] > REFILL_RANK[refill.status]:
                    moves[(refill.status, target)].append(refill.pk)
            polled.append(refill)
        bulk_set(polled, ["last_polled_at", "last_error", "updated_at"])
        # The rows are locked: each move is one conditional UPDATE per (from, to) pair.
        for (source, target), ids in moves.items():
            refills_move(where=Q(pk__in=ids), expect=source, to=target, updated_at=now)
    return len(polled)


def providers_with_open_refills() -> list[int]:
    return list(
        Refill.objects.filter(status__in=REFILL_POLLABLE)
        .order_by()
        .values_list("order__provider_id", flat=True)
        .distinct()
    )
