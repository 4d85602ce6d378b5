"""Upstream rows as the sync stores them, and our existing rows as the sync compares them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from catalog.models import Provider, Service
from panel.money import charge_amount
from panel.smmapi import ServiceInfo

logger = logging.getLogger("catalog.sync")

UNCATEGORIZED = "Uncategorized"
# Column limits: a value that does not fit is cut (texts) or clamped (ints); a row whose id or
# rate cannot be stored is skipped, never failing the whole sync.
MAX_ID_CHARS = 64
MAX_TEXT_CHARS = 500
MAX_CATEGORY_CHARS = 255
MAX_QUANTITY = 2_147_483_647
MAX_RATE = Decimal(10) ** 15

UPSTREAM_FIELDS = [
    "upstream_name",
    "upstream_category",
    "upstream_description",
    "upstream_rate",
    "type",
    "min_quantity",
    "max_quantity",
    "dripfeed",
    "refill",
    "cancel",
]


@dataclass(frozen=True, slots=True)
class UpstreamRow:
    """One service of the provider, cut to fit our columns."""

    upstream_id: str
    name: str
    category: str
    description: str
    type: str
    rate: Decimal
    min: int
    max: int
    dripfeed: bool
    refill: bool
    cancel: bool

    def upstream_values(self) -> dict[str, object]:
        return {
            "upstream_id": self.upstream_id,
            "upstream_name": self.name,
            "upstream_category": self.category,
            "upstream_description": self.description,
            "upstream_rate": self.rate,
            "type": self.type,
            "min_quantity": self.min,
            "max_quantity": self.max,
            "dripfeed": self.dripfeed,
            "refill": self.refill,
            "cancel": self.cancel,
        }


@lru_cache(maxsize=65536)  # called twice per row; a catalogue repeats a few hundred strings
def category_name_for(upstream_category: str) -> str:
    """Our category name for an upstream category string (same text, trimmed to fit)."""
    return upstream_category.strip()[:MAX_CATEGORY_CHARS] or UNCATEGORIZED


def clean_rows(infos: list[ServiceInfo], *, provider: Provider) -> tuple[list[UpstreamRow], int]:
    """Rows we can store, and how many were skipped (each skip is logged)."""
    rows: list[UpstreamRow] = []
    seen: set[str] = set()
    skipped = 0
    for info in infos:
        upstream_id = info.service_id.strip()
        problem = ""
        if not upstream_id or len(upstream_id) > MAX_ID_CHARS:
            problem = "service id is empty or too long"
        elif upstream_id in seen:
            problem = "duplicate service id"
        elif info.rate < 0 or info.rate >= MAX_RATE:
            problem = f"rate {info.rate} out of range"
        if problem:
            skipped += 1
            logger.warning(
                "Provider %s: skipping service %r: %s", provider.pk, upstream_id[:80], problem
            )
            continue
        seen.add(upstream_id)
        rows.append(
            UpstreamRow(
                upstream_id=upstream_id,
                name=info.name[:MAX_TEXT_CHARS],
                category=info.category[:MAX_TEXT_CHARS],
                description=info.description,
                type=info.type.value,
                # Rounded up to our precision: a cost is never understated.
                rate=charge_amount(info.rate),
                min=min(info.min, MAX_QUANTITY),
                max=min(info.max, MAX_QUANTITY),
                dripfeed=info.dripfeed,
                refill=info.refill,
                cancel=info.cancel,
            )
        )
    return rows, skipped


EXISTING_FIELDS = [
    "id",
    "upstream_id",
    *UPSTREAM_FIELDS,
    "category_id",
    "name",
    "description",
    "fixed_rate",
    "markup_percent",
    "rate",
    "is_enabled",
    "is_available",
]


@dataclass(slots=True)
class Existing:
    """Our stored row, as far as the sync needs it (plain values: no model instances)."""

    id: int
    upstream_id: str
    upstream_name: str
    upstream_category: str
    upstream_description: str
    upstream_rate: Decimal
    type: str
    min_quantity: int
    max_quantity: int
    dripfeed: bool
    refill: bool
    cancel: bool
    category_id: int
    name: str
    description: str
    fixed_rate: Decimal | None
    markup_percent: Decimal | None
    rate: Decimal
    is_enabled: bool
    is_available: bool


def load_existing(provider_id: int) -> dict[str, Existing]:
    """All of the provider's services, by upstream id, in one query."""
    return {
        values[1]: Existing(*values)
        for values in Service.objects.filter(provider_id=provider_id)
        .order_by()
        .values_list(*EXISTING_FIELDS)
    }
