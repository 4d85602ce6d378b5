"""Reads of the catalogue that other apps and pages share."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet

from catalog.models import Category, Provider, Service


def services_for_sale() -> QuerySet[Service]:
    """Services a customer may order: enabled by us, still offered upstream, provider on,
    category visible."""
    return Service.objects.filter(
        is_enabled=True,
        is_available=True,
        provider__is_enabled=True,
        category__is_visible=True,
    ).select_related("category", "provider")


def categories_for_sale() -> QuerySet[Category]:
    """Visible categories with at least one service for sale, in our order."""
    return Category.objects.filter(
        Exists(services_for_sale().filter(category_id=OuterRef("pk")))
    ).order_by("sort_order", "name")


def providers_due_for_sync(*, now: datetime) -> list[int]:
    """Ids of enabled providers never synced, or last synced longer ago than their interval."""
    due = []
    for pk, last, minutes in Provider.objects.filter(is_enabled=True).values_list(
        "pk", "last_synced_at", "sync_interval_minutes"
    ):
        if last is None or last + timedelta(minutes=minutes) <= now:
            due.append(pk)
    return due
