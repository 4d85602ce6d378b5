"""Staff resolutions of refills whose upstream outcome is unknown (status needs_review).

A refill ends there when forwarding it had an unknown outcome (read timeout, 5xx, garbage) or
its worker got stuck: it may exist at the provider without us knowing its id. Staff check the
provider's panel and attach the id, resend it, or give up. A refill moves no money, so giving up
is only a status change; the care is in never sending a second refill while one may exist.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from orders.models import Refill
from orders.services.audit import audit_log
from orders.services.refills import enqueue_refill
from orders.services.review import ReviewError
from orders.states import refill_move, refills_move
from panel.smmapi.protocol import Error

R = Refill.Status

# A refill in review counts as open (orders.states.REFILL_OPEN and the one-open-refill-per-order
# index), so no second refill of the order can exist while staff resolve this one.


def _error(message: str) -> ReviewError:
    return ReviewError(message, api_error=Error.INCORRECT_REQUEST)


def refill_attach_upstream(*, refill_id: int, upstream_refill_id: str, staff: User) -> Refill:
    """Staff found the refill at the provider: record its id; refill status sync takes over."""
    upstream_refill_id = upstream_refill_id.strip()
    if not upstream_refill_id or len(upstream_refill_id) > 64:
        raise _error("Enter the provider's refill id (at most 64 characters).")
    provider_id = (
        Refill.objects.filter(pk=refill_id).values_list("order__provider_id", flat=True).first()
    )
    # A typo'd id of another refill would make two of ours follow one upstream refill. There is
    # no unique index on it (ids come from the provider), so this is a check, good for staff use.
    if provider_id is None:
        raise _error("This refill does not exist.")
    taken = (
        Refill.objects.filter(order__provider_id=provider_id, upstream_refill_id=upstream_refill_id)
        .exclude(pk=refill_id)
        .exists()
    )
    if taken:
        raise _error("Another refill of this provider already has that upstream id.")
    now = timezone.now()
    with transaction.atomic():
        updated = refill_move(
            refill_id=refill_id,
            expect=R.NEEDS_REVIEW,
            to=R.PENDING,
            upstream_refill_id=upstream_refill_id,
            sending_since=None,
            next_attempt_at=None,
            last_error=f"Upstream id attached by {staff.email}",
            updated_at=now,
        )
        if updated:
            audit_log(
                staff=staff,
                obj=Refill.objects.get(pk=refill_id),
                message=f"Attached the provider's refill id {upstream_refill_id}.",
            )
    if not updated:
        raise _error("Only a refill that needs review can get an upstream id.")
    return Refill.objects.get(pk=refill_id)


def refill_resend(*, refill_id: int, staff: User) -> Refill:
    """Staff checked the refill is not at the provider: queue it to be sent again."""
    now = timezone.now()
    with transaction.atomic():
        # No upstream id: one that has it exists upstream, and resending would ask twice.
        updated = refills_move(
            where=Q(pk=refill_id, upstream_refill_id=""),
            expect=R.NEEDS_REVIEW,
            to=R.QUEUED,
            sending_since=None,
            next_attempt_at=None,
            last_error=f"Resent by {staff.email}",
            updated_at=now,
        )
        if updated == 1:
            audit_log(
                staff=staff,
                obj=Refill.objects.get(pk=refill_id),
                message="Resent (checked: not at the provider).",
            )
            transaction.on_commit(lambda: enqueue_refill(refill_id))
    if updated != 1:
        raise _error("Only a refill that needs review and has no upstream id can be resent.")
    return Refill.objects.get(pk=refill_id)


def refill_reject(*, refill_id: int, staff: User, reason: str = "") -> Refill:
    """Staff give up on the refill: it ends rejected (no money moves for refills).

    The customer may then ask for a new refill of the order, within its refill window.
    """
    now = timezone.now()
    with transaction.atomic():
        updated = refills_move(
            where=Q(pk=refill_id),
            expect=R.NEEDS_REVIEW,
            to=R.REJECTED,
            sending_since=None,
            next_attempt_at=None,
            last_error=f"Marked rejected by {staff.email}. {reason}".strip(),
            updated_at=now,
        )
        if updated != 1:
            raise _error("Only a refill that needs review can be marked rejected.")
        refill = Refill.objects.get(pk=refill_id)
        audit_log(staff=staff, obj=refill, message=f"Marked rejected. {reason}".strip())
    return refill
