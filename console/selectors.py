"""Reads of the console: queue contents, sidebar counts and the dashboard's numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone

from catalog.models import Provider, Service
from console import permissions
from console.models import DailyRollup, Notification
from orders import states
from orders.models import Order, Refill

S = states.OrderStatus
Reason = states.ReviewReason
# "Held on impossible numbers": the provider's final answer did not add up; nothing settled.
HELD_REASONS = (Reason.IMPOSSIBLE_NUMBER, Reason.PROVIDER_FLAGGED_VALUE)
FAILED_WINDOW = dt.timedelta(hours=24)
# Queued for longer than this, or sending past the sweeper's timeout: stuck.
STUCK_QUEUED_AFTER = dt.timedelta(hours=1)


# --- Queues ---------------------------------------------------------------------------------
def review_queue() -> QuerySet[Order]:
    return (
        Order.objects.filter(status=S.NEEDS_REVIEW)
        .exclude(review_reason__in=HELD_REASONS)
        .select_related("user", "service", "provider")
        .order_by("updated_at")
    )


def held_queue() -> QuerySet[Order]:
    return (
        Order.objects.filter(status=S.NEEDS_REVIEW, review_reason__in=HELD_REASONS)
        .select_related("user", "service", "provider")
        .order_by("updated_at")
    )


def failed_queue(*, now: dt.datetime | None = None) -> QuerySet[Order]:
    since = (now or timezone.now()) - FAILED_WINDOW
    return (
        Order.objects.filter(status=S.FAILED, updated_at__gte=since)
        .select_related("user", "service", "provider")
        .order_by("-updated_at")
    )


def refill_queue() -> QuerySet[Refill]:
    """Refills waiting for the provider or for staff (needs review first)."""
    return (
        Refill.objects.filter(status__in=states.REFILL_OPEN)
        .select_related("order__provider", "order__user")
        .order_by("-status", "created_at")
    )


def cancel_queue() -> QuerySet[Order]:
    """Orders whose customer asked to cancel and the provider has not answered yet."""
    return (
        Order.objects.filter(
            cancel_status__in=[Order.CancelStatus.REQUESTED, Order.CancelStatus.SENT]
        )
        .filter(status__in=states.OPEN)
        .select_related("user", "service", "provider")
        .order_by("updated_at")
    )


def paused_queue() -> QuerySet[Provider]:
    return (
        Provider.objects.filter(Q(is_paused=True) | Q(is_enabled=False))
        .annotate(open_orders=Count("orders", filter=Q(orders__status__in=states.OPEN)))
        .order_by("name")
    )


def stuck_orders(*, now: dt.datetime | None = None) -> QuerySet[Order]:
    now = now or timezone.now()
    sending_timeout = dt.timedelta(seconds=settings.ORDERS_SENDING_TIMEOUT_SECONDS)
    return Order.objects.filter(
        Q(status=S.QUEUED, created_at__lt=now - STUCK_QUEUED_AFTER)
        | Q(status=S.SENDING, sending_since__lt=now - sending_timeout)
    )


# --- Sidebar badges (unfold calls these with the request; "" hides the badge) ---------------
def _badge(count: int) -> str:
    return str(count) if count else ""


def badge_review(request: HttpRequest) -> str:
    return _badge(counts_for(request).needs_review) if permissions.view_orders(request) else ""


def badge_held(request: HttpRequest) -> str:
    return _badge(counts_for(request).held) if permissions.view_orders(request) else ""


def badge_failed(request: HttpRequest) -> str:
    return _badge(counts_for(request).failed) if permissions.view_orders(request) else ""


def badge_refills(request: HttpRequest) -> str:
    return _badge(counts_for(request).waiting) if permissions.view_orders(request) else ""


def badge_paused(request: HttpRequest) -> str:
    return _badge(counts_for(request).paused) if permissions.view_providers(request) else ""


def badge_unread(request: HttpRequest) -> str:
    if not permissions.view_notifications(request):
        return ""
    return _badge(Notification.objects.filter(read_at__isnull=True).count())


# --- Dashboard ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DayRow:
    day: dt.date
    orders: int
    completed: int
    partial: int
    canceled: int
    failed: int
    revenue: Decimal  # charge - refunded
    cost: Decimal
    profit: Decimal


@dataclass(frozen=True)
class ServiceRow:
    service_id: int
    name: str
    orders: int
    revenue: Decimal
    profit: Decimal
    margin: Decimal | None  # profit / revenue, percent


def daily_totals(*, days: int, today: dt.date | None = None) -> list[DayRow]:
    """One row per day of the last ``days`` days (days without orders included)."""
    today = today or timezone.now().date()
    start = today - dt.timedelta(days=days - 1)
    rows = {
        row["day"]: row
        for row in DailyRollup.objects.filter(day__gte=start, day__lte=today)
        .values("day")
        .annotate(
            n=Sum("orders"),
            c=Sum("completed"),
            p=Sum("partial"),
            x=Sum("canceled"),
            f=Sum("failed"),
            charge=Sum("charge"),
            refunded=Sum("refunded"),
            cost_sum=Sum("cost"),
        )
    }
    out = []
    zero = Decimal(0)
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        row = rows.get(day)
        if row is None:
            out.append(DayRow(day, 0, 0, 0, 0, 0, zero, zero, zero))
            continue
        revenue = (row["charge"] or zero) - (row["refunded"] or zero)
        cost = row["cost_sum"] or zero
        out.append(
            DayRow(
                day, row["n"], row["c"], row["p"], row["x"], row["f"], revenue, cost, revenue - cost
            )
        )
    return out


def top_services(
    *, days: int, by: str, limit: int = 10, today: dt.date | None = None
) -> list[ServiceRow]:
    """Top services over the last ``days`` by "revenue" or by "margin" (with some revenue)."""
    today = today or timezone.now().date()
    start = today - dt.timedelta(days=days - 1)
    money = DecimalField(max_digits=20, decimal_places=5)
    grouped = (
        DailyRollup.objects.filter(day__gte=start, day__lte=today)
        .values("service_id")
        .annotate(
            n=Sum("orders"),
            revenue=ExpressionWrapper(Sum("charge") - Sum("refunded"), output_field=money),
            profit=ExpressionWrapper(
                Sum("charge") - Sum("refunded") - Sum("cost"), output_field=money
            ),
        )
        .filter(revenue__gt=0)
    )
    if by == "margin":
        grouped = grouped.annotate(
            margin=ExpressionWrapper(F("profit") * 100 / F("revenue"), output_field=money)
        ).order_by("-margin", "-revenue")
    else:
        grouped = grouped.order_by("-revenue")
    rows = list(grouped[:limit])
    names = dict(
        Service.objects.filter(pk__in=[r["service_id"] for r in rows]).values_list("pk", "name")
    )
    out = []
    for row in rows:
        revenue, profit = row["revenue"], row["profit"]
        margin = (profit * 100 / revenue).quantize(Decimal("0.1")) if revenue else None
        out.append(
            ServiceRow(
                row["service_id"],
                names.get(row["service_id"], "?"),
                row["n"],
                revenue,
                profit,
                margin,
            )
        )
    return out


@dataclass(frozen=True)
class Counts:
    needs_review: int
    held: int
    failed: int
    paused: int
    stuck: int
    waiting: int  # refills and cancels waiting


def queue_counts() -> Counts:
    """Every queue's size; each count uses a small partial index (see orders.models.Order)."""
    return Counts(
        needs_review=review_queue().count(),
        held=held_queue().count(),
        failed=failed_queue().count(),
        paused=Provider.objects.filter(Q(is_paused=True) | Q(is_enabled=False)).count(),
        stuck=stuck_orders().count(),
        waiting=refill_queue().count() + cancel_queue().count(),
    )


def counts_for(request: HttpRequest) -> Counts:
    """``queue_counts`` once per request: the sidebar badges and the dashboard share it."""
    cached: Counts | None = getattr(request, "_console_counts", None)
    if cached is None:
        cached = queue_counts()
        request._console_counts = cached  # type: ignore[attr-defined]
    return cached


def provider_balances() -> list[Provider]:
    return list(Provider.objects.filter(is_enabled=True).order_by("name"))
