"""Celery tasks of the catalogue: thin, taking ids, safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from catalog.models import Provider
from catalog.selectors import providers_due_for_sync
from catalog.services import provider_sync_catalogue, provider_test_connection
from catalog.services.completion import services_refresh_completion_times

logger = logging.getLogger("catalog.tasks")


# Why acks_late: a sync is idempotent and lease-guarded, so a worker lost mid-sync may simply
# hand the message to another worker.
@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def sync_provider(provider_id: int) -> None:
    """Import one provider's catalogue (the sync's lease makes a concurrent run a no-op)."""
    provider_sync_catalogue(provider_id=provider_id)


@shared_task(ignore_result=True)
def sync_due_providers() -> None:
    """Periodic: enqueue a sync for each enabled provider whose interval has passed.

    A failed sync does not move ``last_synced_at``, so it is retried on the next run of this task.
    """
    for provider_id in providers_due_for_sync(now=timezone.now()):
        sync_provider.delay(provider_id)


@shared_task(ignore_result=True)
def refresh_provider_balances() -> None:
    """Periodic: record every enabled provider's balance (alerting below its threshold)."""
    for provider_id in Provider.objects.filter(is_enabled=True).values_list("pk", flat=True):
        # One bad provider must not stop the others; the check records its own errors.
        try:
            provider_test_connection(provider_id=provider_id)
        except Provider.DoesNotExist:
            continue


@shared_task(ignore_result=True)
def refresh_completion_times() -> None:
    """Periodic: recompute every service's average completion time from recent orders."""
    services_refresh_completion_times()
