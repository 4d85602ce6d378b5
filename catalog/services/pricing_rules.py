"""Pricing many services at once without a query per service, and the below-cost rule."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from catalog.models import CatalogAlert, Provider
from catalog.pricing import (
    convert_cost,
    default_markup_percent,
    is_below_cost,
    marked_up_rate,
    pick_markup,
)
from panel.money import charge_amount

BELOW_COST_ACTIONS = ("disable", "reprice")


def below_cost_action() -> str:
    action = str(settings.CATALOG_BELOW_COST_ACTION).strip().lower()
    # Anything unexpected falls back to the safe choice: stop selling.
    return action if action in BELOW_COST_ACTIONS else "disable"


@dataclass(frozen=True)
class BelowCost:
    """A fixed price that no longer covers the converted upstream cost."""

    action: str  # "disable" or "reprice"
    fixed_rate: Decimal
    cost: Decimal
    new_rate: Decimal

    def alert(self, *, provider: Provider, service_id: int, name: str) -> CatalogAlert:
        if self.action == "reprice":
            outcome = f"repriced to {self.new_rate} (markup rules; the fixed price was removed)"
        else:
            outcome = "disabled"
        message = (
            f"Service #{service_id} {name!r} ({provider.name}): the upstream cost "
            f"{charge_amount(self.cost)} is above our fixed price {self.fixed_rate}; {outcome}."
        )
        return CatalogAlert(
            kind=CatalogAlert.Kind.BELOW_COST,
            provider_id=provider.pk,
            service_id=service_id,
            message=message,
        )


class Pricer:
    """Selling rates for one provider's services, with every rule loaded up front."""

    def __init__(
        self, *, provider: Provider, categories: dict[str, tuple[int, Decimal | None]]
    ) -> None:
        self.exchange_rate = Decimal(provider.exchange_rate)
        self.provider_markup = provider.default_markup_percent
        self.default_markup = default_markup_percent()
        self.action = below_cost_action()
        self._by_id = {pk: (name, markup) for name, (pk, markup) in categories.items()}

    def category_name(self, category_id: int) -> str | None:
        entry = self._by_id.get(category_id)
        return entry[0] if entry else None

    def price(
        self,
        *,
        upstream_rate: Decimal,
        category_id: int,
        fixed_rate: Decimal | None,
        markup_percent: Decimal | None,
    ) -> tuple[Decimal, BelowCost | None]:
        """Our rate, and the below-cost finding when a fixed price no longer covers the cost."""
        cost = convert_cost(upstream_rate, self.exchange_rate)
        entry = self._by_id.get(category_id)
        markup = pick_markup(
            markup_percent,
            entry[1] if entry else None,
            self.provider_markup,
            default=self.default_markup,
        )
        if fixed_rate is None:
            return marked_up_rate(cost, markup), None
        fixed = charge_amount(Decimal(fixed_rate))
        if not is_below_cost(fixed_rate=fixed, cost=cost):
            return fixed, None
        if self.action == "reprice":
            rate = marked_up_rate(cost, markup)
            return rate, BelowCost(action="reprice", fixed_rate=fixed, cost=cost, new_rate=rate)
        # Disabled, and the fixed price stays: the admin decides what it should become.
        return fixed, BelowCost(action="disable", fixed_rate=fixed, cost=cost, new_rate=fixed)
