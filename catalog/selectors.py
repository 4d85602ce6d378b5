"""Reads of the catalogue that other apps and pages share."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from catalog.models import Category, Provider, Service, ServiceUpdate

# Feature filters of the services page: the query value and the Service flag it needs.
FEATURES = {"refill": "refill", "cancel": "cancel", "dripfeed": "dripfeed"}


def services_for_sale() -> QuerySet[Service]:
    """Services a customer may order: enabled by us, still offered upstream, provider on,
    category visible."""
    return Service.objects.filter(
        is_enabled=True,
        is_available=True,
        provider__is_enabled=True,
        category__is_visible=True,
    ).select_related("category", "provider")


def search_services(queryset: QuerySet[Service], query: str) -> QuerySet[Service]:
    """Services matching every word of the query, in any order: each word is found in the
    name or the category name, or is the service's id ("followers real" finds "Real HQ
    Followers")."""
    for word in query.split()[:10]:
        condition = Q(name__icontains=word) | Q(category__name__icontains=word)
        number = word.lstrip("#")
        # isascii: "²" passes isdigit() but int() refuses it; the length keeps it in a bigint.
        if number.isascii() and number.isdigit() and len(number) < 18:
            condition |= Q(pk=int(number))
        queryset = queryset.filter(condition)
    return queryset


def services_with_features(queryset: QuerySet[Service], features: list[str]) -> QuerySet[Service]:
    """Only the services offering every named feature (unknown names are ignored)."""
    flags = {FEATURES[name]: True for name in features if name in FEATURES}
    return queryset.filter(**flags)


def catalogue_updates(*, limit: int) -> QuerySet[ServiceUpdate]:
    """The latest changes customers can act on: of services that are (or were, when removed)
    for sale, newest first."""
    return (
        ServiceUpdate.objects.filter(
            service__is_enabled=True,
            service__provider__is_enabled=True,
            service__category__is_visible=True,
        )
        .select_related("service__category")
        .order_by("-created_at", "-id")[:limit]
    )


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
