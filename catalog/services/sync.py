"""Catalogue sync: import one provider's ``services`` list into our Service table.

Shape of a sync (no network I/O inside a transaction or a lock held in the database):
  1. claim the provider's sync lease with one conditional UPDATE (a second sync gets 0 rows and
     returns at once: that is the lock);
  2. fetch the provider's catalogue (network, no transaction open);
  3. one SELECT of our existing rows, diff in memory, then in one short transaction: one upsert
     of new and changed rows, one insert of rate history, one UPDATE of vanished rows;
  4. release the lease and record the provider's health in one UPDATE.
The number of queries does not depend on the number of services. Rows that did not change are
not written at all, so a re-sync with no upstream change writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from catalog.models import CatalogAlert, Category, Provider, RateChange, Service, ServiceUpdate
from catalog.services.alerts import alerts_raise
from catalog.services.bulk import bulk_upsert
from catalog.services.pricing_rules import BelowCost, Pricer
from catalog.services.upstream import (
    UPSTREAM_FIELDS,
    Existing,
    UpstreamRow,
    category_name_for,
    clean_rows,
    load_existing,
)
from console.services.notify import Kind, notify
from panel.smmapi import ProviderError, ServiceInfo, SMMClient

logger = logging.getLogger("catalog.sync")

# Longer than a sync can take (the client's read timeout plus the database work); a worker that
# died mid-sync blocks the next one for this long at most.
SYNC_LEASE = timedelta(minutes=10)

# Columns the upsert rewrites on a changed row. Everything else (our pricing rules, created_at,
# refill_days...) is left alone.
WRITE_FIELDS = [
    *UPSTREAM_FIELDS,
    "category",
    "name",
    "description",
    "fixed_rate",
    "rate",
    "is_enabled",
    "is_available",
    "updated_at",
]


@dataclass
class SyncResult:
    """What one sync did: ``status`` "ok", "locked" (another sync runs), "failed" or "missing"."""

    provider_id: int
    status: str
    received: int = 0
    skipped: int = 0
    created: int = 0
    updated: int = 0
    vanished: int = 0
    rate_changes: int = 0
    below_cost: int = 0
    categories_created: int = 0
    error: str = ""

    @property
    def rows_written(self) -> int:
        return self.created + self.updated + self.vanished + self.rate_changes

    def stats(self) -> dict[str, int]:
        return {
            "received": self.received,
            "skipped": self.skipped,
            "created": self.created,
            "updated": self.updated,
            "vanished": self.vanished,
            "rate_changes": self.rate_changes,
            "below_cost": self.below_cost,
            "categories_created": self.categories_created,
        }


def provider_sync_catalogue(*, provider_id: int) -> SyncResult:
    """Import the provider's catalogue. Safe to call concurrently and repeatedly.

    Provider errors do not raise: they are recorded on the provider (``last_error``) and in the
    result, because the next scheduled sync is the retry.
    """
    now = timezone.now()
    lease = now + SYNC_LEASE
    claimed = (
        Provider.objects.filter(pk=provider_id)
        .filter(Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lte=now))
        .update(sync_lease_until=lease)
    )
    if claimed != 1:
        exists = Provider.objects.filter(pk=provider_id).exists()
        status = "locked" if exists else "missing"
        logger.info("Catalogue sync of provider %s skipped: %s", provider_id, status)
        return SyncResult(provider_id=provider_id, status=status)
    released = False
    try:
        provider = Provider.objects.get(pk=provider_id)
        try:
            infos = _fetch(provider)
        except (ProviderError, ValueError) as exc:
            # ProviderError messages never contain the key (the client scrubs them); ValueError
            # comes from a key the key ring cannot decrypt.
            message = str(exc)
            logger.warning("Catalogue sync of %s failed: %s", provider, message)
            _release(provider_id, lease, last_error=message[:2000], last_error_at=timezone.now())
            released = True
            notify(
                kind=Kind.SYNC_FAILED,
                subject_key=f"provider:{provider_id}",
                title=f"Catalogue sync of {provider.name} failed",
                body=message,
                link=reverse("admin:catalog_provider_change", args=[provider_id]),
            )
            return SyncResult(provider_id=provider_id, status="failed", error=message)
        result = _apply(provider, infos, now=now)
        finished = timezone.now()
        _release(
            provider_id,
            lease,
            last_synced_at=finished,
            last_success_at=finished,
            last_sync_stats=result.stats(),
        )
        released = True
        logger.info("Catalogue sync of %s: %s", provider, result.stats())
        return result
    finally:
        if not released:
            _release(provider_id, lease)


def _fetch(provider: Provider) -> list[ServiceInfo]:
    with SMMClient(provider.api_url, provider.api_key) as client:
        return client.services()


def _release(provider_id: int, lease: datetime, **fields: object) -> None:
    # Conditional on our own lease: if it expired and another sync took over, we leave theirs.
    Provider.objects.filter(pk=provider_id, sync_lease_until=lease).update(
        sync_lease_until=None, **fields
    )


def _apply(provider: Provider, infos: list[ServiceInfo], *, now: datetime) -> SyncResult:
    result = SyncResult(provider_id=provider.pk, status="ok", received=len(infos))
    rows, skipped = clean_rows(infos, provider=provider)
    result.skipped = skipped
    categories = _categories(rows, result)
    existing = load_existing(provider.pk)
    pricer = Pricer(provider=provider, categories=categories)
    new_enabled = bool(settings.CATALOG_NEW_SERVICES_ENABLED)

    upserts: list[dict[str, object]] = []
    history: list[RateChange] = []
    alerts: list[CatalogAlert] = []
    # What customers see on the Updates page. A provider's first import is not news.
    first_import = not existing
    added: list[str] = []
    updates: list[ServiceUpdate] = []
    for row in rows:
        old = existing.pop(row.upstream_id, None)
        if old is None:
            upserts.append(_new_service(provider, row, categories, pricer, new_enabled, now))
            result.created += 1
            if not first_import:
                added.append(row.upstream_id)
            continue
        service, below = _updated_service(provider, row, old, categories, pricer, now)
        if service is None:
            continue
        upserts.append(service)
        result.updated += 1
        updates.extend(_customer_updates(old, service, now))
        if old.upstream_rate != row.rate:
            history.append(
                RateChange(service_id=old.id, old_rate=old.upstream_rate, new_rate=row.rate)
            )
        if below is not None:
            alerts.append(
                below.alert(provider=provider, service_id=old.id, name=str(service["name"]))
            )
    # Whatever is left in ``existing`` is no longer offered upstream. Never deleted: orders
    # point at it, and it may come back.
    vanished = [old.id for old in existing.values() if old.is_available]
    result.vanished = len(vanished)
    result.rate_changes = len(history)
    result.below_cost = len(alerts)

    if not (upserts or vanished):
        return result
    with transaction.atomic():
        if upserts:
            bulk_upsert(
                Service,
                upserts,
                unique_fields=["provider", "upstream_id"],
                update_fields=WRITE_FIELDS,
            )
        if history:
            RateChange.objects.bulk_create(history)
        if vanished:
            Service.objects.filter(pk__in=vanished).update(is_available=False, updated_at=now)
            updates.extend(
                ServiceUpdate(service_id=pk, kind=ServiceUpdate.Kind.REMOVED, created_at=now)
                for pk in vanished
            )
        if added:
            updates.extend(
                ServiceUpdate(service_id=pk, kind=ServiceUpdate.Kind.ADDED, created_at=now)
                for pk in Service.objects.filter(
                    provider_id=provider.pk, upstream_id__in=added
                ).values_list("pk", flat=True)
            )
        if updates:
            ServiceUpdate.objects.bulk_create(updates)
        alerts_raise(alerts=alerts, subject=f"{provider.name}: upstream rates above our prices")
    return result


def _customer_updates(
    old: Existing, service: dict[str, object], now: datetime
) -> list[ServiceUpdate]:
    """The Updates-page entries of one changed row: back on offer, and our rate moving."""
    entries = []
    if not old.is_available:
        entries.append(
            ServiceUpdate(service_id=old.id, kind=ServiceUpdate.Kind.RESTORED, created_at=now)
        )
    new_rate = cast(Decimal, service["rate"])
    if new_rate != old.rate:
        kind = ServiceUpdate.Kind.RATE_UP if new_rate > old.rate else ServiceUpdate.Kind.RATE_DOWN
        entries.append(
            ServiceUpdate(
                service_id=old.id, kind=kind, old_rate=old.rate, new_rate=new_rate, created_at=now
            )
        )
    return entries


def _categories(
    rows: list[UpstreamRow], result: SyncResult
) -> dict[str, tuple[int, Decimal | None]]:
    """Our categories by name (id, markup), creating the ones the feed names for the first time."""
    known = {
        name: (pk, markup, order)
        for pk, name, markup, order in Category.objects.values_list(
            "id", "name", "markup_percent", "sort_order"
        )
    }
    wanted = list(dict.fromkeys(category_name_for(row.category) for row in rows))
    missing = [name for name in wanted if name not in known]
    if missing:
        # New categories go after ours, in the provider's order.
        start = max((order for _pk, _markup, order in known.values()), default=0) + 10
        Category.objects.bulk_create(
            [Category(name=name, sort_order=start + 10 * i) for i, name in enumerate(missing)],
            # A concurrent sync of another provider may create the same name: then it is ours too.
            ignore_conflicts=True,
        )
        result.categories_created = len(missing)
        for pk, name, markup, order in Category.objects.filter(name__in=missing).values_list(
            "id", "name", "markup_percent", "sort_order"
        ):
            known[name] = (pk, markup, order)
    return {name: (pk, markup) for name, (pk, markup, _order) in known.items()}


def _new_service(
    provider: Provider,
    row: UpstreamRow,
    categories: dict[str, tuple[int, Decimal | None]],
    pricer: Pricer,
    enabled: bool,
    now: datetime,
) -> dict[str, object]:
    category_id = categories[category_name_for(row.category)][0]
    rate, _below = pricer.price(
        upstream_rate=row.rate,
        category_id=category_id,
        fixed_rate=None,
        markup_percent=None,
    )
    return {
        "provider_id": provider.pk,
        "category_id": category_id,
        "name": row.name,
        "description": row.description,
        "rate": rate,
        "is_enabled": enabled,
        "is_available": True,
        "created_at": now,
        "updated_at": now,
        **row.upstream_values(),
    }


def _updated_service(
    provider: Provider,
    row: UpstreamRow,
    old: Existing,
    categories: dict[str, tuple[int, Decimal | None]],
    pricer: Pricer,
    now: datetime,
) -> tuple[dict[str, object] | None, BelowCost | None]:
    """The row to write for a known service, or None when nothing changed."""
    # Our edits survive: name, description and category follow upstream only while they still
    # equal what upstream said last time.
    name = row.name if old.name == old.upstream_name else old.name
    description = (
        row.description if old.description == old.upstream_description else old.description
    )
    category_id = old.category_id
    if pricer.category_name(old.category_id) == category_name_for(old.upstream_category):
        category_id = categories[category_name_for(row.category)][0]
    rate, below = pricer.price(
        upstream_rate=row.rate,
        category_id=category_id,
        fixed_rate=old.fixed_rate,
        markup_percent=old.markup_percent,
    )
    fixed_rate, is_enabled = old.fixed_rate, old.is_enabled
    if below is not None:
        if below.action == "reprice":
            fixed_rate = None
        elif is_enabled:
            is_enabled = False
        else:
            below = None  # already off: nothing to do, nothing to tell
    target = {
        **row.upstream_values(),
        "category_id": category_id,
        "name": name,
        "description": description,
        "fixed_rate": fixed_rate,
        "rate": rate,
        "is_enabled": is_enabled,
        "is_available": True,
    }
    if all(getattr(old, key) == value for key, value in target.items()):
        return None, None
    # A full row: on PostgreSQL the upsert's INSERT half needs every NOT NULL column (only
    # WRITE_FIELDS are applied to the existing row).
    service = {
        **target,
        "provider_id": provider.pk,
        "markup_percent": old.markup_percent,
        "created_at": now,
        "updated_at": now,
    }
    return service, below
