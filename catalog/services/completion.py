"""Average completion time per service, measured from our own completed orders.

As the big panels do it: the median over a service's last completed orders of
``(finished − placed) × 1000 / quantity`` — the time 1,000 units take — so one slow or one
instant order does not move it, and a large order does not look slow only for being large.
"""

from __future__ import annotations

from statistics import median

from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from catalog.models import Service
from orders.models import Order

SAMPLE_SIZE = 10
# Fewer completed orders than this and the figure would be a guess: keep "not known".
MIN_SAMPLES = 3


def services_refresh_completion_times() -> int:
    """Recompute `Service.completion_seconds_per_1000` for every service; the number changed.

    Drip-feed orders are left out (their runs wait on purpose), as are orders without a
    quantity (packages, subscriptions).
    """
    ranked = (
        Order.objects.filter(
            status=Order.Status.COMPLETED,
            finished_at__isnull=False,
            runs__isnull=True,
            quantity__gt=0,
        )
        .annotate(
            recent=Window(
                RowNumber(), partition_by=[F("service_id")], order_by=F("finished_at").desc()
            )
        )
        .filter(recent__lte=SAMPLE_SIZE)
        .values_list("service_id", "created_at", "finished_at", "quantity")
    )
    samples: dict[int, list[float]] = {}
    for service_id, created_at, finished_at, quantity in ranked:
        if finished_at is None:  # excluded by the query; narrows the type
            continue
        seconds = max((finished_at - created_at).total_seconds(), 0.0)
        samples.setdefault(service_id, []).append(seconds * 1000 / quantity)
    measured = {
        service_id: round(median(values))
        for service_id, values in samples.items()
        if len(values) >= MIN_SAMPLES
    }
    current = dict(
        Service.objects.filter(completion_seconds_per_1000__isnull=False).values_list(
            "pk", "completion_seconds_per_1000"
        )
    )
    changes = {pk: value for pk, value in measured.items() if current.get(pk) != value} | {
        pk: None for pk in current if pk not in measured
    }
    with transaction.atomic():
        for pk, value in changes.items():
            Service.objects.filter(pk=pk).update(completion_seconds_per_1000=value)
    return len(changes)
