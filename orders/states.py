"""The order and refill state machines: statuses, named groups, allowed moves, the one writer.

Every status change of an order or a refill goes through ``orders_move`` / ``refills_move``
(or their one-row forms): a conditional UPDATE that says which status it expects and, for the
forwarding steps, which attempt (the fencing token) must still own the row. A move the table
below does not allow is a bug and raises ``IllegalMove`` before anything is written.
``tests/orders/test_states.py`` walks the table and fails if other code writes a status.

Orders::

              ┌──────────── canceled ◄──────────────────────────────────────┐
              │  (customer, before sending)                                  │ staff
      queued ─┴─► sending ──► sent ──► in_progress ──► completed | partial    │
        ▲           │  │       │  ╲        │           | canceled | expired  │
        │ retry,    │  │       │   ╲       ▼                                  │
        │ pause     │  │       │    ► active ◄──► paused ──► (final)         │
        └───────────┘  │       │                                              │
                       │       └──────────────► needs_review ─────────────────┤
              failed ◄─┘ (definitive rejection)   │ attach id → sent         │
                                                   │ resend → queued          │
                                                   └ staff settle → (final) ──┘

  sending → needs_review: the outcome of ``add`` is unknown (timeout, 5xx, garbage, stuck).
  open → needs_review: the provider answered something we will not settle money on; the
  order's ``review_reason`` says what, ``review_data`` holds the numbers staff need.

Refills::

      queued ──► sending ──► pending ──► in_progress ──► completed
        ▲          │  │         │             │
        └─ retry ──┘  │         └─────────────┴────────► rejected
                      ├──► rejected (refused)               ▲
                      └──► needs_review ── attach → pending │
                                  │      └ resend → queued  │
                                  └─────── staff reject ────┘

Review reasons (``Order.review_reason``, one queue each in the operator console):

* ``unknown_outcome``: ``add`` may or may not have created the order upstream.
* ``duplicate_upstream_id``: the provider answered an id another of our orders already has.
* ``upstream_id_too_long``: the provider's order id does not fit our column; the full id is in
  ``review_data["upstream_order_id"]``.
* ``impossible_number``: a final answer whose ``remains`` is below 0 or above the units paid,
  or whose charge disagrees with its remains; both numbers are in ``review_data``.
* ``provider_flagged_value``: a final answer carried a value the client could not hold
  (``OrderStatus.flags``); nothing was settled.
* ``provider_failed``: the provider reports "Fail"/"Error", which means different things at
  different providers.
* ``unbilled_posts``: an unlimited subscription's balance ran out and its cancel was refused
  or has an unknown outcome; posts beyond what was paid are in ``review_data["owed"]``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from orders.models import Order


class OrderStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    PARTIAL = "partial", _("Partial")
    CANCELED = "canceled", _("Canceled")
    FAILED = "failed", _("Failed")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    # Subscriptions.
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    EXPIRED = "expired", _("Expired")


class RefillStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    NEEDS_REVIEW = "needs_review", _("Needs review")


class ReviewReason(models.TextChoices):
    NONE = "", _("None")
    UNKNOWN_OUTCOME = "unknown_outcome", _("Unknown outcome of sending")
    DUPLICATE_UPSTREAM_ID = "duplicate_upstream_id", _("Upstream id used by another order")
    UPSTREAM_ID_TOO_LONG = "upstream_id_too_long", _("Upstream id too long")
    IMPOSSIBLE_NUMBER = "impossible_number", _("Impossible number")
    PROVIDER_FLAGGED_VALUE = "provider_flagged_value", _("Value we cannot hold")
    PROVIDER_FAILED = "provider_failed", _("Provider reports a failure")
    UNBILLED_POSTS = "unbilled_posts", _("Unbilled posts")


S = OrderStatus
R = RefillStatus

INITIAL = S.QUEUED
REFILL_INITIAL = R.QUEUED

# Where each order status may go. Staff resolutions leave needs_review; nothing leaves a final one.
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    S.QUEUED: frozenset({S.SENDING, S.CANCELED}),
    S.SENDING: frozenset({S.SENT, S.QUEUED, S.FAILED, S.NEEDS_REVIEW}),
    S.SENT: frozenset(
        {S.IN_PROGRESS, S.ACTIVE, S.PAUSED, S.COMPLETED, S.PARTIAL, S.CANCELED, S.EXPIRED}
        | {S.NEEDS_REVIEW}
    ),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.PARTIAL, S.CANCELED, S.NEEDS_REVIEW}),
    S.ACTIVE: frozenset({S.PAUSED, S.COMPLETED, S.PARTIAL, S.CANCELED, S.EXPIRED, S.NEEDS_REVIEW}),
    S.PAUSED: frozenset({S.ACTIVE, S.COMPLETED, S.PARTIAL, S.CANCELED, S.EXPIRED, S.NEEDS_REVIEW}),
    S.NEEDS_REVIEW: frozenset({S.SENT, S.QUEUED, S.CANCELED, S.COMPLETED, S.PARTIAL, S.EXPIRED}),
    S.COMPLETED: frozenset(),
    S.PARTIAL: frozenset(),
    S.CANCELED: frozenset(),
    S.FAILED: frozenset(),
    S.EXPIRED: frozenset(),
}

REFILL_TRANSITIONS: Mapping[RefillStatus, frozenset[RefillStatus]] = {
    R.QUEUED: frozenset({R.SENDING}),
    R.SENDING: frozenset({R.PENDING, R.QUEUED, R.REJECTED, R.NEEDS_REVIEW}),
    R.PENDING: frozenset({R.IN_PROGRESS, R.COMPLETED, R.REJECTED}),
    R.IN_PROGRESS: frozenset({R.COMPLETED, R.REJECTED}),
    R.NEEDS_REVIEW: frozenset({R.PENDING, R.QUEUED, R.REJECTED}),
    R.COMPLETED: frozenset(),
    R.REJECTED: frozenset(),
}

# Named groups. Tuples, in a fixed order, because the model's index conditions are built from
# them (a reordered group would be a migration).
FINAL = (S.COMPLETED, S.PARTIAL, S.CANCELED, S.FAILED, S.EXPIRED)
OPEN = tuple(s for s in S if s not in FINAL)
# Still occupying its link upstream (the duplicate-link guard and its partial index).
ACTIVE_LINK = (
    S.QUEUED,
    S.SENDING,
    S.SENT,
    S.IN_PROGRESS,
    S.NEEDS_REVIEW,
    S.ACTIVE,
    S.PAUSED,
)
# At the provider, and followed by status sync.
POLLABLE = (S.SENT, S.IN_PROGRESS, S.ACTIVE, S.PAUSED)
# A cancel the provider can still act on; one asked while sending waits for the upstream id.
UPSTREAM_CANCELABLE = (S.SENDING, *POLLABLE)
# Staff may cancel and refund in full: never reached the provider, or waiting for a person.
STAFF_CANCELABLE = (S.NEEDS_REVIEW, S.QUEUED)
# Final statuses that give the customer money back (in full or for what was not delivered).
REFUNDABLE = (S.CANCELED, S.PARTIAL, S.EXPIRED, S.FAILED)
# Final statuses after which the provider may have refunded part of its charge.
PROVIDER_REFUNDS = (S.CANCELED, S.PARTIAL, S.EXPIRED)
# A customer may ask for a refill of these.
REFILLABLE = (S.COMPLETED,)
# While a page shows one of these, it polls for fresh statuses.
LIVE = (S.QUEUED, S.SENDING, S.SENT, S.IN_PROGRESS, S.ACTIVE, S.NEEDS_REVIEW)
# How far along a polled order is; status sync never moves an order to a lower rank.
RANK: Mapping[str, int] = {
    S.SENT: 1,
    S.IN_PROGRESS: 2,
    S.ACTIVE: 2,
    S.PAUSED: 2,
    **dict.fromkeys(FINAL, 3),
}

REFILL_FINAL = (R.COMPLETED, R.REJECTED)
# Needs review counts as open: the refill may exist at the provider, so a second one must wait
# until staff resolve the first (the one-open-refill-per-order index backs this).
REFILL_OPEN = tuple(s for s in R if s not in REFILL_FINAL)
REFILL_POLLABLE = (R.PENDING, R.IN_PROGRESS)
REFILL_RANK: Mapping[str, int] = {R.PENDING: 1, R.IN_PROGRESS: 2, R.COMPLETED: 3, R.REJECTED: 3}


class IllegalMove(ValueError):
    """A status change the transition table does not allow (a bug, never user input)."""


def _expected(expect: str | Collection[str]) -> tuple[str, ...]:
    return (expect,) if isinstance(expect, str) else tuple(expect)


def check_move(
    table: Mapping[Any, frozenset[Any]], expect: str | Collection[str], to: str
) -> tuple[str, ...]:
    """The expected statuses, after checking every ``expected → to`` is in ``table``."""
    expected = _expected(expect)
    if not expected:
        raise IllegalMove(f"A move to {to!r} must say which status it expects")
    for source in expected:
        if to not in table.get(source, frozenset()):
            raise IllegalMove(f"{source!r} → {to!r} is not an allowed move")
    return expected


def orders_move(
    *,
    where: Q,
    expect: str | Collection[str],
    to: OrderStatus,
    attempt: int | None = None,
    **changes: Any,
) -> int:
    """Move every order matching ``where`` whose status is one of ``expect`` to ``to``.

    One conditional UPDATE; returns how many rows moved (0 means someone else moved them
    first, or they are not in an expected status any more). ``attempt`` fences forwarding: the
    row moves only while ``attempts`` still equals it, so a call that outlived its claim cannot
    record over a newer attempt. ``changes`` are the other columns written with the status.

    ``where`` must not filter through a related table: Django turns that into
    ``WHERE id IN (subquery)``, which PostgreSQL does not re-check after waiting for a
    concurrent writer's row lock, so two claims could both succeed.
    """
    from orders.models import Order

    expected = check_move(TRANSITIONS, expect, to)
    queryset = Order.objects.filter(where, status__in=expected)
    if attempt is not None:
        queryset = queryset.filter(attempts=attempt)
    changes.setdefault("updated_at", timezone.now())
    return queryset.update(status=to, **changes)


def orders_record(
    orders: Sequence[Order], fields: Sequence[str], moves: Mapping[int, OrderStatus]
) -> None:
    """Write ``fields`` of every order and move those in ``moves`` (id → new status) from the
    status each holds now, in one statement on PostgreSQL (status sync's batches).

    The caller holds the rows' locks, so each row must still be in the status it was read
    with; a row that is not fails the whole write (``IllegalMove``) and the caller's
    transaction rolls back. One statement instead of a bulk write plus one UPDATE per
    (from, to) pair: each row gets one new version, its indexes touched once.
    """
    from orders.bulk import bulk_set

    pairs: dict[tuple[str, OrderStatus], list[int]] = {}
    for order in orders:
        if order.pk in moves:
            check_move(TRANSITIONS, order.status, moves[order.pk])
            pairs.setdefault((order.status, moves[order.pk]), []).append(order.pk)
    if connection.vendor != "postgresql":
        bulk_set(orders, fields)
        for (source, target), ids in pairs.items():
            orders_move(where=Q(pk__in=ids), expect=source, to=target, updated_at=timezone.now())
        return
    held = [order.status for order in orders]
    for order in orders:
        order.status = moves.get(order.pk, order.status)
    written = bulk_set(orders, [*fields, "status"], guard=("status", held))
    if written != len(orders):
        raise IllegalMove(f"{len(orders) - written} of {len(orders)} orders changed status")


def order_move(
    *,
    order_id: int,
    expect: str | Collection[str],
    to: OrderStatus,
    attempt: int | None = None,
    where: Q | None = None,
    **changes: Any,
) -> bool:
    """``orders_move`` for one order; True if this call moved it."""
    condition = Q(pk=order_id) if where is None else Q(pk=order_id) & where
    return orders_move(where=condition, expect=expect, to=to, attempt=attempt, **changes) == 1


def refills_move(
    *,
    where: Q,
    expect: str | Collection[str],
    to: RefillStatus,
    attempt: int | None = None,
    **changes: Any,
) -> int:
    """``orders_move`` for refills (same rules, the refill table)."""
    from orders.models import Refill

    expected = check_move(REFILL_TRANSITIONS, expect, to)
    queryset = Refill.objects.filter(where, status__in=expected)
    if attempt is not None:
        queryset = queryset.filter(attempts=attempt)
    changes.setdefault("updated_at", timezone.now())
    return queryset.update(status=to, **changes)


def refill_move(
    *,
    refill_id: int,
    expect: str | Collection[str],
    to: RefillStatus,
    attempt: int | None = None,
    **changes: Any,
) -> bool:
    """``refills_move`` for one refill; True if this call moved it."""
    return (
        refills_move(where=Q(pk=refill_id), expect=expect, to=to, attempt=attempt, **changes) == 1
    )
