"""Celery tasks: thin wrappers taking ids, each calling one service. Safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)

# Why: the sweeper moves an order stuck in "sending" to needs review after
# ORDERS_SENDING_TIMEOUT_SECONDS, where staff may resend it. The worker's call must surely be
# over by then, or the resend could race a call still in flight: the soft limit interrupts the
# call (the order goes to needs review), the hard limit kills a worker that ignores it.
SEND_TIME_LIMIT = max(settings.ORDERS_SENDING_TIMEOUT_SECONDS - 20, 10)
SEND_SOFT_TIME_LIMIT = max(SEND_TIME_LIMIT - 10, 5)


# Not acks_late: a redelivered forward is harmless (the claim stops it), but a worker killed
# mid-call must leave the order in "sending" for the sweeper, never re-run it blindly.
@shared_task(ignore_result=True, time_limit=SEND_TIME_LIMIT, soft_time_limit=SEND_SOFT_TIME_LIMIT)
def forward_order(order_id: int) -> None:
    from orders.services.forwarding import order_forward

    order_forward(order_id=order_id)


# No time limits: a run drains a provider in batches for as long as orders are due, and every
# call in it is bounded by the client's timeouts; a worker killed mid-batch leaves its claimed
# orders in "sending" for the sweeper, like a killed forward_order.
@shared_task(ignore_result=True)
def forward_provider(provider_id: int) -> None:
    from orders.services.dispatch import provider_forward

    outcomes = provider_forward(provider_id=provider_id)
    if outcomes:
        logger.info("Forwarded for provider %s: %s", provider_id, dict(outcomes))


@shared_task(ignore_result=True, time_limit=SEND_TIME_LIMIT, soft_time_limit=SEND_SOFT_TIME_LIMIT)
def forward_refill(refill_id: int) -> None:
    from orders.services.refill_forwarding import refill_forward

    refill_forward(refill_id=refill_id)


@shared_task(ignore_result=True, time_limit=SEND_TIME_LIMIT, soft_time_limit=SEND_SOFT_TIME_LIMIT)
def forward_cancel(order_id: int) -> None:
    from orders.services.cancels import order_forward_cancel

    order_forward_cancel(order_id=order_id)


@shared_task(ignore_result=True)
def sweep_orders() -> None:
    from orders.services.sweeper import orders_sweep

    stats = orders_sweep()
    logger.info("Sweep: %s", stats)


@shared_task(ignore_result=True)
def sync_statuses() -> None:
    """Fan out one status sync per provider with open orders."""
    from orders.services.status_sync import providers_with_open_orders

    for provider_id in providers_with_open_orders():
        sync_provider_statuses.delay(provider_id)


@shared_task(ignore_result=True)
def sync_provider_statuses(provider_id: int) -> None:
    from orders.services.status_sync import orders_sync_statuses

    orders_sync_statuses(provider_id=provider_id)


@shared_task(ignore_result=True)
def sync_refills() -> None:
    from orders.services.refill_forwarding import providers_with_open_refills, refills_sync_statuses

    for provider_id in providers_with_open_refills():
        refills_sync_statuses(provider_id=provider_id)


@shared_task(ignore_result=True)
def reconcile_providers() -> None:
    from orders.services.reconciliation import providers_reconcile

    providers_reconcile()
