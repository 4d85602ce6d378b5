"""Daily per-provider reconciliation: our recorded costs vs the provider's balance movement.

For a provider and a day: ``movement = opening + top_ups - closing`` is what the provider took
from our account; ``net_cost = recorded_cost - recorded_refunds`` is what our orders say it
should have taken. ``discrepancy = movement - net_cost``; a non-zero figure means money we
cannot explain (unrecorded orders, provider errors, a top-up not entered).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db.models import Count, F, Sum
from django.urls import reverse
from django.utils import timezone

from catalog.models import Provider
from console.services.notify import Kind, notify
from orders.models import Order, ProviderReconciliation
from orders.services.forwarding import client_for
from orders.states import PROVIDER_REFUNDS
from panel.money import ZERO, MoneyField, money
from panel.smmapi import NotDelivered, Rejected, UnknownOutcome

logger = logging.getLogger(__name__)


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def provider_balance_now(provider: Provider) -> Decimal | None:
    """The provider's balance in the panel currency, asked now; falls back to the last check."""
    try:
        with client_for(provider) as client:
            amount = client.balance().amount
    except (NotDelivered, Rejected, UnknownOutcome) as exc:
        logger.warning("Balance of provider %s unavailable: %s", provider.pk, exc)
        if provider.balance is None:
            return None
        amount = Decimal(provider.balance)
    return money(amount * Decimal(provider.exchange_rate))


def provider_reconcile(
    *, provider_id: int, day: dt.date, closing_balance: Decimal | None = None
) -> ProviderReconciliation:
    """Build (or rebuild) the report of one provider and day. Keeps staff-entered top-ups."""
    provider = Provider.objects.get(pk=provider_id)
    start, end = _day_bounds(day)
    sent = Order.objects.filter(provider_id=provider_id, sent_at__gte=start, sent_at__lt=end)
    # Status sync keeps the provider's charge after its refund in ``cost`` and the refund in
    # ``provider_refunded``: the charge it took is their sum, the refund counted once, when the
    # order ended.
    totals = sent.aggregate(
        cost=Sum(F("cost") + F("provider_refunded"), output_field=MoneyField()), n=Count("id")
    )
    refunds = Order.objects.filter(
        provider_id=provider_id,
        finished_at__gte=start,
        finished_at__lt=end,
        status__in=PROVIDER_REFUNDS,
    ).aggregate(total=Sum("provider_refunded"))["total"]
    previous = (
        ProviderReconciliation.objects.filter(provider_id=provider_id, day=day - dt.timedelta(1))
        .values_list("closing_balance", flat=True)
        .first()
    )
    existing = ProviderReconciliation.objects.filter(provider_id=provider_id, day=day).first()
    if closing_balance is None:
        closing_balance = (
            existing.closing_balance
            if existing is not None and existing.closing_balance is not None
            else provider_balance_now(provider)
        )
    report = existing or ProviderReconciliation(provider_id=provider_id, day=day)
    report.opening_balance = previous
    report.closing_balance = closing_balance
    report.orders_sent = totals["n"] or 0
    report.recorded_cost = money(totals["cost"] or ZERO)
    report.recorded_refunds = money(refunds or ZERO)
    report.discrepancy = report_discrepancy(report)
    report.save()
    return report


def report_discrepancy(report: ProviderReconciliation) -> Decimal | None:
    if report.opening_balance is None or report.closing_balance is None:
        return None
    movement = (
        Decimal(report.opening_balance) + Decimal(report.top_ups) - Decimal(report.closing_balance)
    )
    net_cost = Decimal(report.recorded_cost) - Decimal(report.recorded_refunds)
    return money(movement - net_cost)


def providers_reconcile(*, day: dt.date | None = None) -> list[ProviderReconciliation]:
    """Yesterday's report for every enabled provider (run shortly after midnight UTC)."""
    day = day or (timezone.now() - dt.timedelta(days=1)).date()
    reports = [
        provider_reconcile(provider_id=pk, day=day)
        for pk in Provider.objects.filter(is_enabled=True).values_list("pk", flat=True)
    ]
    for report in reports:
        if report.discrepancy:
            notify(
                kind=Kind.RECONCILIATION,
                subject_key=f"provider:{report.provider_id}:{day}",
                title=f"Provider {report.provider}: {report.discrepancy} unexplained on {day}",
                body=(
                    "The provider's balance moved by a different amount than our recorded "
                    "costs and refunds. Check its top-ups and orders for that day."
                ),
                link=reverse("admin:orders_providerreconciliation_change", args=[report.pk]),
            )
    return reports
