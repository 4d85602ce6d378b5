"""Console pages inside the admin: the dashboard, the work queues and the bulk markup tool.

Adapters only: they check the permission, parse the form, call one service, render.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from catalog.models import Category, Provider, Service
from catalog.pricing import cost_rate, marked_up_rate
from catalog.services import provider_test_connection, provider_update, services_set_markup
from console import permissions, selectors
from console.models import AuditEntry
from console.services import audit_record
from orders.errors import OrderError
from orders.models import Order, Refill
from orders.services import (
    order_attach_upstream,
    order_cancel_and_refund,
    order_resend,
    refill_attach_upstream,
    refill_reject,
    refill_resend,
)
from panel.money import money

HUNDRED = Decimal(100)
DAY_CHOICES = (30, 90)


# --- Dashboard ------------------------------------------------------------------------------
def _chart(labels: list[str], datasets: list[dict[str, Any]]) -> str:
    return json.dumps({"labels": labels, "datasets": datasets})


def _options(*, stacked: bool = False) -> str:
    """Chart.js options (they replace the theme's defaults, which hide the legend)."""
    axis: dict[str, Any] = {"stacked": stacked, "grid": {"display": False}}
    return json.dumps(
        {
            "animation": False,
            "responsive": True,
            "maintainAspectRatio": False,
            "elements": {"point": {"radius": 0}, "line": {"borderWidth": 2}},
            "plugins": {
                "legend": {"display": True, "position": "top", "align": "end"},
                "tooltip": {"enabled": True, "mode": "index", "intersect": False},
            },
            "scales": {"x": axis, "y": {"stacked": stacked, "beginAtZero": True}},
        }
    )


def _series(label: str, data: list[Any], color: str, **extra: Any) -> dict[str, Any]:
    return {"label": label, "data": data, "borderColor": color, "backgroundColor": color, **extra}


BLUE, ORANGE, GREEN, AMBER, GREY, RED, PURPLE = (
    "#3b82f6",
    "#f97316",
    "#16a34a",
    "#f59e0b",
    "#94a3b8",
    "#dc2626",
    "#9333ea",
)


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """The staff home: unfold calls this for the admin index and renders admin/index.html."""
    if not permissions.view_dashboard(request):
        return context
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    days = days if days in DAY_CHOICES else 30
    rows = selectors.daily_totals(days=days)
    labels = [row.day.strftime("%d.%m") for row in rows]
    money_chart = _chart(
        labels,
        [
            _series(str(_("Revenue")), [str(r.revenue) for r in rows], BLUE),
            _series(str(_("Provider cost")), [str(r.cost) for r in rows], ORANGE),
            _series(str(_("Profit")), [str(r.profit) for r in rows], GREEN),
        ],
    )
    status_chart = _chart(
        labels,
        [
            _series(str(_("Completed")), [r.completed for r in rows], GREEN),
            _series(str(_("Partial")), [r.partial for r in rows], AMBER),
            _series(str(_("Canceled")), [r.canceled for r in rows], GREY),
            _series(str(_("Failed")), [r.failed for r in rows], RED),
        ],
    )
    providers = selectors.provider_balances()
    balance_chart = _chart(
        [p.name for p in providers],
        [
            _series(
                str(_("Low-balance line")),
                [str(p.low_balance_threshold or 0) for p in providers],
                RED,
                type="line",
                fill=False,
            ),
            _series(str(_("Balance")), [str(p.balance or 0) for p in providers], PURPLE),
        ],
    )
    counts = selectors.counts_for(request)
    orders_url = reverse("admin:orders_order_changelist")
    context.update(
        {
            "dashboard": True,
            "title": _("Dashboard"),
            "line_options": _options(),
            "stacked_options": _options(stacked=True),
            "bar_options": _options(),
            "days": days,
            "day_choices": DAY_CHOICES,
            "rows": rows,
            "totals": {
                "revenue": sum((r.revenue for r in rows), Decimal(0)),
                "cost": sum((r.cost for r in rows), Decimal(0)),
                "profit": sum((r.profit for r in rows), Decimal(0)),
                "orders": sum(r.orders for r in rows),
            },
            "money_chart": money_chart,
            "status_chart": status_chart,
            "balance_chart": balance_chart,
            "providers": providers,
            "top_revenue": selectors.top_services(days=days, by="revenue"),
            "top_margin": selectors.top_services(days=days, by="margin"),
            "counters": [
                (_("Needs review"), counts.needs_review, reverse("console:queue", args=["review"])),
                (
                    _("Held: impossible numbers"),
                    counts.held,
                    reverse("console:queue", args=["held"]),
                ),
                (_("Failed (24 h)"), counts.failed, reverse("console:queue", args=["failed"])),
                (_("Providers paused"), counts.paused, reverse("console:queue", args=["paused"])),
                (_("Stuck orders"), counts.stuck, f"{orders_url}?stuck=yes"),
            ],
        }
    )
    return context


# --- Work queues ----------------------------------------------------------------------------
QUEUES: dict[str, tuple[Any, Callable[[HttpRequest], bool]]] = {
    "review": (gettext_lazy("Needs review"), permissions.view_orders),
    "held": (gettext_lazy("Held: impossible numbers"), permissions.view_orders),
    "failed": (gettext_lazy("Failed in the last 24 hours"), permissions.view_orders),
    "refills": (gettext_lazy("Refills and cancels waiting"), permissions.view_orders),
    "paused": (gettext_lazy("Providers paused"), permissions.view_providers),
}
QUEUE_LIMIT = 200


def queue_view(request: HttpRequest, name: str) -> HttpResponse:
    if name not in QUEUES:
        raise PermissionDenied
    title, allowed = QUEUES[name]
    if not allowed(request):
        raise PermissionDenied
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": title,
        "queue": name,
        "can_change_orders": permissions.change_orders(request),
        "can_change_refills": permissions.change_refills(request),
        "can_change_providers": permissions.change_providers(request),
    }
    if name == "review":
        context["orders"] = list(selectors.review_queue()[:QUEUE_LIMIT])
    elif name == "held":
        context["orders"] = list(selectors.held_queue()[:QUEUE_LIMIT])
    elif name == "failed":
        context["orders"] = list(selectors.failed_queue()[:QUEUE_LIMIT])
    elif name == "refills":
        context["refills"] = list(selectors.refill_queue()[:QUEUE_LIMIT])
        context["cancels"] = list(selectors.cancel_queue()[:QUEUE_LIMIT])
    else:
        context["providers"] = list(selectors.paused_queue())
    return TemplateResponse(request, "console/queue.html", context)


def _back(request: HttpRequest, queue: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("console:queue", args=[queue]))


def order_action(request: HttpRequest, order_id: int) -> HttpResponse:
    """A row action of the order queues: attach the upstream id, resend, cancel and refund."""
    if request.method != "POST":
        raise PermissionDenied
    if not permissions.change_orders(request):
        raise PermissionDenied
    staff = cast(User, request.user)
    queue = request.POST.get("queue", "review")
    queue = queue if queue in QUEUES else "review"
    action = request.POST.get("action", "")
    order = get_object_or_404(Order, pk=order_id)
    try:
        if action == "attach":
            order_attach_upstream(
                order_id=order.pk,
                upstream_order_id=request.POST.get("upstream_id", ""),
                staff=staff,
            )
            done = _("Order %(id)s: upstream id attached; status sync takes over.")
        elif action == "resend":
            order_resend(order_id=order.pk, staff=staff)
            done = _("Order %(id)s queued to be sent again.")
        elif action == "cancel":
            order_cancel_and_refund(order_id=order.pk, staff=staff)
            done = _("Order %(id)s canceled and refunded in full.")
        else:
            messages.error(request, _("Unknown action."))
            return _back(request, queue)
    except OrderError as exc:
        messages.warning(request, f"{order.pk}: {exc.message}")
    else:
        messages.success(request, done % {"id": order.pk})
    return _back(request, queue)


def refill_action(request: HttpRequest, refill_id: int) -> HttpResponse:
    """A row action of the refill queue: attach the upstream refill id, resend, reject."""
    if request.method != "POST" or not permissions.change_refills(request):
        raise PermissionDenied
    staff = cast(User, request.user)
    action = request.POST.get("action", "")
    refill = get_object_or_404(Refill, pk=refill_id)
    try:
        if action == "attach":
            refill_attach_upstream(
                refill_id=refill.pk,
                upstream_refill_id=request.POST.get("upstream_id", ""),
                staff=staff,
            )
            done = _("Refill %(id)s: upstream id attached.")
        elif action == "resend":
            refill_resend(refill_id=refill.pk, staff=staff)
            done = _("Refill %(id)s queued to be sent again.")
        elif action == "reject":
            refill_reject(refill_id=refill.pk, staff=staff)
            done = _("Refill %(id)s marked rejected.")
        else:
            messages.error(request, _("Unknown action."))
            return _back(request, "refills")
    except OrderError as exc:
        messages.warning(request, f"{refill.pk}: {exc.message}")
    else:
        messages.success(request, done % {"id": refill.pk})
    return _back(request, "refills")


def provider_action(request: HttpRequest, provider_id: int) -> HttpResponse:
    """Refresh a provider's balance (any viewer of providers) or resume it (change)."""
    if request.method != "POST" or not permissions.view_providers(request):
        raise PermissionDenied
    provider = get_object_or_404(Provider, pk=provider_id)
    action = request.POST.get("action", "")
    back = request.POST.get("next") or reverse("console:queue", args=["paused"])
    if not back.startswith("/admin/"):
        back = reverse("console:queue", args=["paused"])
    if action == "balance":
        if not permissions.change_providers(request):
            raise PermissionDenied
        check = provider_test_connection(provider_id=provider.pk)
        level = messages.SUCCESS if check.ok else messages.ERROR
        messages.add_message(request, level, f"{provider.name}: {check.message}")
    elif action == "resume":
        if not permissions.change_providers(request):
            raise PermissionDenied
        staff = cast(User, request.user)
        with transaction.atomic():
            before = {"is_paused": provider.is_paused, "paused_reason": provider.paused_reason}
            saved = provider_update(provider_id=provider.pk, is_paused=False)
            audit_record(
                staff=staff,
                obj=saved,
                action=AuditEntry.Action.PROVIDER,
                message=_("Resumed the provider."),
                before=before,
                after={"is_paused": saved.is_paused, "paused_reason": saved.paused_reason},
            )
        messages.success(request, _("%(name)s resumed.") % {"name": provider.name})
    else:
        messages.error(request, _("Unknown action."))
    return HttpResponseRedirect(back)


# --- Bulk markup ----------------------------------------------------------------------------
class BulkMarkupForm(forms.Form):
    category = forms.ModelChoiceField(
        queryset=Category.objects.order_by("sort_order", "name"),
        required=False,
        label=gettext_lazy("Category"),
    )
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.order_by("name"), required=False, label=gettext_lazy("Provider")
    )
    markup_percent = forms.DecimalField(
        min_value=0,
        max_digits=7,
        decimal_places=2,
        label=gettext_lazy("New markup %"),
        help_text=gettext_lazy("Replaces fixed prices and per-service markups of these services."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("category") and not cleaned.get("provider"):
            raise ValidationError(_("Choose a category or a provider (or both)."))
        return cleaned


PREVIEW_LIMIT = 500


def _scope(data: dict[str, Any]) -> Any:
    services = Service.objects.select_related("provider", "category").order_by("pk")
    if data.get("category"):
        services = services.filter(category=data["category"])
    if data.get("provider"):
        services = services.filter(provider=data["provider"])
    return services


def _margin(rate: Decimal, cost: Decimal) -> Decimal | None:
    return ((rate - cost) / cost * HUNDRED).quantize(Decimal("0.1")) if cost else None


def bulk_markup_view(request: HttpRequest) -> HttpResponse:
    """Preview old → new prices and margins for a category or provider, then apply."""
    if not permissions.change_services(request):
        raise PermissionDenied
    form = BulkMarkupForm(request.POST or request.GET or None)
    preview: list[dict[str, Any]] = []
    total = 0
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        markup: Decimal = data["markup_percent"]
        services = _scope(data)
        total = services.count()
        if request.method == "POST" and request.POST.get("apply") == "1" and total:
            staff = cast(User, request.user)
            ids = list(services.values_list("pk", flat=True))
            with transaction.atomic():
                count = services_set_markup(service_ids=ids, markup_percent=markup)
                for scope in (data.get("category"), data.get("provider")):
                    if scope is not None:
                        audit_record(
                            staff=staff,
                            obj=scope,
                            action=AuditEntry.Action.PRICE,
                            message=_("Bulk markup: %(count)s service(s) set to %(markup)s%%.")
                            % {"count": count, "markup": markup},
                            before={"services": count},
                            after={"markup_percent": markup},
                        )
            messages.success(
                request,
                _("%(count)s service(s) now priced at %(markup)s%% markup.")
                % {"count": count, "markup": markup},
            )
            return HttpResponseRedirect(reverse("console:markup"))
        for service in services[:PREVIEW_LIMIT]:
            cost = cost_rate(service)
            new_rate = marked_up_rate(cost, markup)
            preview.append(
                {
                    "service": service,
                    "cost": money(cost),
                    "old_rate": service.rate,
                    "new_rate": new_rate,
                    "old_margin": _margin(Decimal(service.rate), cost),
                    "new_margin": _margin(new_rate, cost),
                }
            )
    context = {
        **admin.site.each_context(request),
        "title": _("Bulk markup"),
        "form": form,
        "preview": preview,
        "total": total,
        "preview_limit": PREVIEW_LIMIT,
    }
    return TemplateResponse(request, "console/bulk_markup.html", context)
