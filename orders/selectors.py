"""Non-trivial reads of orders for pages and the admin."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from orders.models import Order, Refill
from orders.services.refills import refill_available
from orders.states import REFILL_OPEN, UPSTREAM_CANCELABLE


def orders_for_user(*, user: User, status: str | None = None) -> QuerySet[Order]:
    """The user's orders, newest first, with what a list shows."""
    queryset = Order.objects.filter(user=user).select_related("service").order_by("-id")
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def order_can_refill(order: Order) -> bool:
    """Whether the refill button should show (no refill in flight and within the window)."""
    if not refill_available(order):
        return False
    return not Refill.objects.filter(order=order, status__in=REFILL_OPEN).exists()


def order_can_cancel(order: Order) -> bool:
    if order.status == Order.Status.QUEUED:
        return True
    return (
        order.service.cancel
        and order.status in UPSTREAM_CANCELABLE
        and order.cancel_status in (Order.CancelStatus.NONE, Order.CancelStatus.REJECTED)
    )


def orders_needing_review() -> QuerySet[Order]:
    return Order.objects.filter(status=Order.Status.NEEDS_REVIEW).select_related(
        "user", "provider", "service"
    )
