"""Order services: every write to orders, refills and cancels goes through these functions."""

from orders.services.cancels import cancel_request, order_forward_cancel
from orders.services.forwarding import order_forward, provider_pause, provider_resume
from orders.services.placement import order_place, order_quote
from orders.services.reconciliation import provider_reconcile, providers_reconcile
from orders.services.refill_forwarding import refill_forward, refills_sync_statuses
from orders.services.refill_review import refill_attach_upstream, refill_reject, refill_resend
from orders.services.refills import refill_available, refill_request
from orders.services.review import (
    ReviewError,
    order_attach_upstream,
    order_cancel_and_refund,
    order_resend,
    order_settle,
)
from orders.services.status_sync import orders_sync_statuses
from orders.services.sweeper import orders_sweep

__all__ = [
    "ReviewError",
    "cancel_request",
    "order_attach_upstream",
    "order_cancel_and_refund",
    "order_forward",
    "order_forward_cancel",
    "order_place",
    "order_quote",
    "order_resend",
    "order_settle",
    "orders_sweep",
    "orders_sync_statuses",
    "provider_pause",
    "provider_reconcile",
    "provider_resume",
    "providers_reconcile",
    "refill_attach_upstream",
    "refill_available",
    "refill_forward",
    "refill_reject",
    "refill_request",
    "refill_resend",
    "refills_sync_statuses",
]
