"""Operations tasks: beat's heartbeat and the periodic ledger check (read by /readyz, /metrics)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_init
from django.core.cache import cache
from django.utils import timezone

from panel.health import BEAT_HEARTBEAT_KEY
from panel.metrics import LEDGER_RESULT_KEY, metrics_dir_reset

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def beat_heartbeat() -> None:
    """Sent by beat every 30 s: a fresh value proves beat, the broker and a worker all run."""
    cache.set(BEAT_HEARTBEAT_KEY, timezone.now().isoformat(), timeout=24 * 3600)


@shared_task(ignore_result=True)
def check_ledger() -> None:
    """Hourly: count ledger discrepancies (as `manage.py check_ledger`) for /metrics."""
    from accounts.selectors import ledger_discrepancies

    count = sum(1 for _ in ledger_discrepancies())
    if count:
        logger.error("Ledger check: %s discrepancies; run `manage.py check_ledger`", count)
    cache.set(
        LEDGER_RESULT_KEY,
        {"checked_at": timezone.now().isoformat(), "discrepancies": count},
        timeout=7 * 24 * 3600,
    )


@worker_init.connect(weak=False, dispatch_uid="upline-metrics-dir-reset")
def _reset_metrics_dir(**kwargs: Any) -> None:
    # In the worker's main process, before the pool forks its children.
    metrics_dir_reset()
