"""Our side of the catalogue: edits, pricing rules, bulk actions, categories, custom rates."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from catalog.models import CatalogAlert, Category, Service, UserRate
from catalog.pricing import (
    cost_rate,
    default_markup_percent,
    is_below_cost,
    marked_up_rate,
    markup_percent_for,
)
from catalog.services.alerts import alerts_raise
from catalog.services.pricing_rules import BelowCost, below_cost_action
from panel.money import charge_amount

MAX_PERCENT = Decimal("99999.99")
REPRICE_BATCH = 500


def _percent(value: Decimal | str | None, field_name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({field_name: "Enter a number."}) from None
    # A negative markup sells below cost: the panel never sells at a loss.
    if not number.is_finite() or number < 0 or number > MAX_PERCENT:
        raise ValidationError({field_name: f"Enter a percentage between 0 and {MAX_PERCENT}."})
    return number.quantize(Decimal("0.01"))


def check_covers_cost(service: Service, rate: Decimal | None, field_name: str) -> None:
    """Refuse a fixed or custom rate below the converted upstream cost."""
    if rate is None:
        return
    cost = cost_rate(service)
    if is_below_cost(fixed_rate=rate, cost=cost):
        raise ValidationError(
            {field_name: f"{rate} is below the upstream cost of {charge_amount(cost)}."}
        )


def services_reprice(
    *,
    provider_id: int | None = None,
    category_id: int | None = None,
    service_ids: Collection[int] | None = None,
) -> int:
    """Recompute our rate for the matching services (after a rule changed); returns rows written.

    A fixed price that no longer covers the cost gets the below-cost treatment, as in a sync.
    """
    services = Service.objects.select_related("provider", "category").order_by("pk")
    if provider_id is not None:
        services = services.filter(provider_id=provider_id)
    if category_id is not None:
        services = services.filter(category_id=category_id)
    if service_ids is not None:
        services = services.filter(pk__in=list(service_ids))
    default = default_markup_percent()
    action = below_cost_action()
    now = timezone.now()
    changed: list[Service] = []
    alerts: list[CatalogAlert] = []
    for service in services.iterator(chunk_size=2000):
        cost = cost_rate(service)
        markup = markup_percent_for(service, default=default)
        before = (service.rate, service.fixed_rate, service.is_enabled)
        if service.fixed_rate is None:
            service.rate = marked_up_rate(cost, markup)
        elif is_below_cost(fixed_rate=service.fixed_rate, cost=cost):
            finding = BelowCost(
                action=action,
                fixed_rate=Decimal(service.fixed_rate),
                cost=cost,
                new_rate=marked_up_rate(cost, markup),
            )
            if action == "reprice":
                service.fixed_rate = None
                service.rate = finding.new_rate
            elif service.is_enabled:
                service.is_enabled = False
            if (service.rate, service.fixed_rate, service.is_enabled) != before:
                alerts.append(
                    finding.alert(
                        provider=service.provider, service_id=service.pk, name=service.name
                    )
                )
        else:
            service.rate = charge_amount(Decimal(service.fixed_rate))
        if (service.rate, service.fixed_rate, service.is_enabled) != before:
            service.updated_at = now
            changed.append(service)
    with transaction.atomic():
        Service.objects.bulk_update(
            changed, ["rate", "fixed_rate", "is_enabled", "updated_at"], batch_size=REPRICE_BATCH
        )
        alerts_raise(alerts=alerts, subject="Fixed prices below the upstream cost")
    return len(changed)


@dataclass
class EnableResult:
    changed: int = 0
    refused: list[int] = field(default_factory=list)


def services_set_enabled(*, service_ids: Collection[int], enabled: bool) -> EnableResult:
    """Enable or disable services. A service whose fixed price is below cost stays off."""
    result = EnableResult()
    ids = list(service_ids)
    if not enabled:
        result.changed = Service.objects.filter(pk__in=ids, is_enabled=True).update(
            is_enabled=False, updated_at=timezone.now()
        )
        return result
    allowed: list[int] = []
    for service in Service.objects.filter(pk__in=ids).select_related("provider"):
        if is_below_cost(fixed_rate=service.fixed_rate, cost=cost_rate(service)):
            result.refused.append(service.pk)
        else:
            allowed.append(service.pk)
    result.changed = Service.objects.filter(pk__in=allowed, is_enabled=False).update(
        is_enabled=True, updated_at=timezone.now()
    )
    return result


def services_set_markup(
    *, service_ids: Collection[int], markup_percent: Decimal | str | None
) -> int:
    """Set a per-service markup (None: inherit) and drop fixed prices so the markup applies."""
    markup = _percent(markup_percent, "markup_percent")
    ids = list(service_ids)
    with transaction.atomic():
        Service.objects.filter(pk__in=ids).update(
            markup_percent=markup, fixed_rate=None, updated_at=timezone.now()
        )
        services_reprice(service_ids=ids)
    return len(ids)


def services_move(*, service_ids: Collection[int], category_id: int) -> int:
    """Move services to one of our categories (a sync will not move them back)."""
    if not Category.objects.filter(pk=category_id).exists():
        raise ValidationError({"category": "Choose an existing category."})
    ids = list(service_ids)
    with transaction.atomic():
        moved = Service.objects.filter(pk__in=ids).update(
            category_id=category_id, updated_at=timezone.now()
        )
        # The category's markup may differ.
        services_reprice(service_ids=ids)
    return moved


def service_update(
    *,
    service_id: int,
    name: str,
    description: str,
    category_id: int,
    fixed_rate: Decimal | None,
    markup_percent: Decimal | str | None,
    is_enabled: bool,
    refill_days: int,
    allow_unlimited_posts: bool,
    average_time: str = "",
) -> Service:
    """Save an admin's edit of a service; our rate is recomputed from the new rules."""
    service = Service.objects.select_related("provider", "category").get(pk=service_id)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Enter a name."})
    markup = _percent(markup_percent, "markup_percent")
    if fixed_rate is not None:
        fixed_rate = charge_amount(Decimal(fixed_rate))
        if fixed_rate < 0:
            raise ValidationError({"fixed_rate": "Enter a positive rate."})
    check_covers_cost(service, fixed_rate, "fixed_rate")
    with transaction.atomic():
        Service.objects.filter(pk=service_id).update(
            name=name,
            description=description,
            category_id=category_id,
            fixed_rate=fixed_rate,
            markup_percent=markup,
            is_enabled=is_enabled,
            refill_days=refill_days,
            allow_unlimited_posts=allow_unlimited_posts,
            average_time=average_time.strip(),
            updated_at=timezone.now(),
        )
        services_reprice(service_ids=[service_id])
    service.refresh_from_db()
    return service


def category_save(
    *,
    category_id: int | None,
    name: str,
    sort_order: int = 0,
    markup_percent: Decimal | str | None = None,
    is_visible: bool = True,
) -> Category:
    """Create (``category_id`` None) or change a category; a new markup re-prices its services."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Enter a name."})
    same_name = Category.objects.filter(name=name)
    if category_id is not None:
        same_name = same_name.exclude(pk=category_id)
    if same_name.exists():
        raise ValidationError({"name": "A category with this name already exists."})
    markup = _percent(markup_percent, "markup_percent")
    values = {
        "name": name,
        "sort_order": sort_order,
        "markup_percent": markup,
        "is_visible": is_visible,
    }
    if category_id is None:
        return Category.objects.create(**values)
    with transaction.atomic():
        old_markup = Category.objects.values_list("markup_percent", flat=True).get(pk=category_id)
        Category.objects.filter(pk=category_id).update(**values)
        if old_markup != markup:
            services_reprice(category_id=category_id)
    return Category.objects.get(pk=category_id)


def user_rate_set(*, user: User, service_id: int, rate: Decimal | None) -> UserRate | None:
    """Give a reseller a custom rate for one service (None removes it). Never below cost."""
    if rate is None:
        UserRate.objects.filter(user=user, service_id=service_id).delete()
        return None
    service = Service.objects.select_related("provider").get(pk=service_id)
    rate = charge_amount(Decimal(rate))
    check_covers_cost(service, rate, "rate")
    custom, _created = UserRate.objects.update_or_create(
        user=user, service_id=service_id, defaults={"rate": rate}
    )
    return custom
