"""Celery beat's scheduler: the database's schedule, seeded once from settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler


class SeedOnceScheduler(DatabaseScheduler):  # type: ignore[misc]
    """``DatabaseScheduler`` that creates the ``CELERY_BEAT_SCHEDULE`` entries missing from the
    database and leaves existing ones alone.

    Why: the stock scheduler writes every settings entry over its row on each beat start, so an
    admin's edit (a slower sweep, a disabled task) silently came back after a restart.
    """

    def update_from_dict(self, mapping: Mapping[str, Any]) -> None:
        existing = set(
            PeriodicTask.objects.filter(name__in=list(mapping)).values_list("name", flat=True)
        )
        super().update_from_dict(
            {name: entry for name, entry in mapping.items() if name not in existing}
        )
