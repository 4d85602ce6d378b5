"""Periodic checks that turn a waiting work queue into an operator notification."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse

from console.services.notify import Kind, notify
from orders.models import Order


def review_queue_notify() -> int:
    """One notification per provider with orders in needs review; returns how many providers.

    Runs every minute; the throttle turns that into one message per provider and hour while
    its orders wait, whichever code path moved them to needs review.
    """
    waiting = (
        Order.objects.filter(status=Order.Status.NEEDS_REVIEW)
        .values("provider_id", "provider__name")
        .annotate(n=Count("pk"))
        .order_by("provider_id")
    )
    link = reverse("console:queue", args=["review"])
    count = 0
    for row in waiting:
        notify(
            kind=Kind.NEEDS_REVIEW,
            subject_key=f"provider:{row['provider_id']}:review",
            title=f"{row['n']} order(s) of {row['provider__name']} need review",
            body="Their outcome at the provider is unknown or did not add up; nothing moves "
            "until staff resolve them in the Needs review queue.",
            link=link,
        )
        count += 1
    return count
