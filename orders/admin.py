"""Admin: an interface over the order services (no workflow lives here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display

from accounts.models import User
from console.admin_helpers import audit_link, clipped, money_cell, short_age
from console.export import csv_stream
from console.selectors import stuck_orders
from orders.errors import OrderError
from orders.models import Order, ProviderReconciliation, Refill
from orders.services import (
    order_attach_upstream,
    order_cancel_and_refund,
    order_resend,
    provider_reconcile,
    refill_attach_upstream,
    refill_reject,
    refill_resend,
)


class AttachUpstreamForm(forms.Form):
    upstream_order_id = forms.CharField(label=_("Provider's order id"), max_length=64)


class AttachUpstreamRefillForm(forms.Form):
    upstream_refill_id = forms.CharField(label=_("Provider's refill id"), max_length=64)


STATUS_BADGES = {
    Order.Status.COMPLETED: "success",
    Order.Status.PARTIAL: "warning",
    Order.Status.CANCELED: "info",
    Order.Status.EXPIRED: "info",
    Order.Status.FAILED: "danger",
    Order.Status.NEEDS_REVIEW: "danger",
    Order.Status.PAUSED: "warning",
}

ORDER_CSV = [
    ("id", "id"),
    ("created_at", "created_at"),
    ("user", "user__email"),
    ("service_id", "service_id"),
    ("service", "service__name"),
    ("provider", "provider__name"),
    ("upstream_order_id", "upstream_order_id"),
    ("link", "link"),
    ("quantity", "quantity"),
    ("status", "status"),
    ("charge", "charge"),
    ("refunded", "refunded"),
    ("cost", "cost"),
    ("source", "source"),
]


class StuckFilter(admin.SimpleListFilter):
    title = _("stuck")
    parameter_name = "stuck"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [("yes", str(_("Stuck in queued or sending")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() == "yes":
            return queryset.filter(pk__in=stuck_orders().values("pk"))
        return queryset


@admin.register(Order)
class OrderAdmin(ModelAdmin):
    # Fits 1366 px: long texts are cut (the full value is in the tooltip and the detail page).
    list_display = (
        "id",
        "user_email",
        "service_short",
        "link_short",
        "qty",
        "charge_cell",
        "cost_cell",
        "profit",
        "status_badge",
        "upstream",
        "age",
    )
    list_display_links = ("id",)
    list_filter = (
        StuckFilter,
        "status",
        "review_reason",
        "cancel_status",
        "provider",
        "source",
        "type",
    )
    search_fields = ("=id", "=upstream_order_id", "link", "user__email")
    list_select_related = ("user", "service", "provider")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    show_full_result_count = False
    list_before_template = "console/_export_link.html"
    actions = ("resend", "cancel_and_refund")
    # Everything is written by services: the admin reads, and acts through the actions.
    readonly_fields = [f.name for f in Order._meta.fields] + ["review_links", "audit_trail"]

    @admin.display(description=_("Customer"), ordering="user__email")
    def user_email(self, obj: Order) -> str:
        return clipped(obj.user.email, 13)

    @admin.display(description=_("Service"), ordering="service_id")
    def service_short(self, obj: Order) -> str:
        return clipped(f"{obj.service_id} {obj.service.name}", 15)

    @admin.display(description=_("Link"))
    def link_short(self, obj: Order) -> str:
        link = obj.link.removeprefix("https://").removeprefix("http://").removeprefix("www.")
        return clipped(link, 12)

    @admin.display(description=_("Qty"), ordering="quantity")
    def qty(self, obj: Order) -> int:
        return obj.quantity

    @admin.display(description=_("Charge"), ordering="charge")
    def charge_cell(self, obj: Order) -> str:
        return money_cell(obj.charge)

    @admin.display(description=_("Expense"), ordering="cost")
    def cost_cell(self, obj: Order) -> str:
        return money_cell(obj.cost)

    @admin.display(description=_("Profit"))
    def profit(self, obj: Order) -> str:
        if obj.cost is None:
            return "-"
        return money_cell(obj.charge - obj.refunded - obj.cost)

    @admin.display(description=_("Upstream id"), ordering="upstream_order_id")
    def upstream(self, obj: Order) -> str:
        return clipped(obj.upstream_order_id or "-", 10)

    @display(description=_("Status"), ordering="status", label=STATUS_BADGES)
    def status_badge(self, obj: Order) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @admin.display(description=_("Age"), ordering="created_at")
    def age(self, obj: Order) -> str:
        return short_age(obj.created_at)

    @admin.display(description=_("Audit log"))
    def audit_trail(self, obj: Order) -> str:
        return audit_link(obj)

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """The filtered list as CSV, streamed (a million rows never sit in memory)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request).order_by("-id")
        return csv_stream(queryset=queryset, columns=ORDER_CSV, filename="orders")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    @admin.display(description=_("Resolve"))
    def review_links(self, obj: Order) -> str:
        if obj.status != Order.Status.NEEDS_REVIEW:
            return "-"
        url = reverse("admin:orders_order_attach_upstream", args=[obj.pk])
        return format_html('<a href="{}">Attach the provider\'s order id</a>', url)

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<int:order_id>/attach-upstream/",
                self.admin_site.admin_view(self.attach_upstream_view),
                name="orders_order_attach_upstream",
            ),
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_view),
                name="orders_order_export",
            ),
        ]
        return extra + super().get_urls()

    def attach_upstream_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order.objects.select_related("provider"), pk=order_id)
        staff = cast(User, request.user)  # the admin only lets staff users in
        return _attach_page(
            self,
            request,
            form=AttachUpstreamForm(request.POST or None),
            label=_("Order %(id)s") % {"id": order.pk},
            in_review=order.status == Order.Status.NEEDS_REVIEW,
            attach=lambda upstream_id: order_attach_upstream(
                order_id=order.pk, upstream_order_id=upstream_id, staff=staff
            ),
            change_url=reverse("admin:orders_order_change", args=[order.pk]),
            done=_("Order %(id)s is now sent.") % {"id": order.pk},
            context={
                "title": _("Attach an upstream id to order %(id)s") % {"id": order.pk},
                "summary": _(
                    "Order %(id)s (%(provider)s, upstream service %(service)s, link %(link)s)"
                )
                % {
                    "id": order.pk,
                    "provider": order.provider,
                    "service": order.upstream_service_id,
                    "link": order.link,
                },
                "last_error": order.last_error,
                "hint": _(
                    "If you found this order in the provider's panel, enter its id there. "
                    "Status sync takes over."
                ),
            },
        )

    @admin.action(description=_("Resend (checked: not at the provider)"), permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        staff = cast(User, request.user)  # the admin only lets staff users in
        _each(self, request, queryset, lambda pk: order_resend(order_id=pk, staff=staff))

    @admin.action(description=_("Cancel and refund in full"), permissions=["change"])
    def cancel_and_refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        staff = cast(User, request.user)  # the admin only lets staff users in
        _each(self, request, queryset, lambda pk: order_cancel_and_refund(order_id=pk, staff=staff))


@admin.register(Refill)
class RefillAdmin(ModelAdmin):
    list_display = ("id", "order", "status", "upstream_refill_id", "created_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("=id", "=order__id", "=upstream_refill_id", "order__user__email")
    list_select_related = ("order",)
    ordering = ("-id",)
    # Only refills in needs review can be resolved; the services refuse any other.
    actions = ("resend", "mark_rejected")
    readonly_fields = [f.name for f in Refill._meta.fields] + ["review_links"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Refill | None = None) -> bool:
        return False

    @admin.display(description=_("Resolve"))
    def review_links(self, obj: Refill) -> str:
        if obj.status != Refill.Status.NEEDS_REVIEW:
            return "-"
        url = reverse("admin:orders_refill_attach_upstream", args=[obj.pk])
        return format_html('<a href="{}">Attach the provider\'s refill id</a>', url)

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<int:refill_id>/attach-upstream/",
                self.admin_site.admin_view(self.attach_upstream_view),
                name="orders_refill_attach_upstream",
            )
        ]
        return extra + super().get_urls()

    def attach_upstream_view(self, request: HttpRequest, refill_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        refill = get_object_or_404(Refill.objects.select_related("order__provider"), pk=refill_id)
        staff = cast(User, request.user)  # the admin only lets staff users in
        order = refill.order
        return _attach_page(
            self,
            request,
            form=AttachUpstreamRefillForm(request.POST or None),
            label=_("Refill %(id)s") % {"id": refill.pk},
            in_review=refill.status == Refill.Status.NEEDS_REVIEW,
            attach=lambda upstream_id: refill_attach_upstream(
                refill_id=refill.pk, upstream_refill_id=upstream_id, staff=staff
            ),
            change_url=reverse("admin:orders_refill_change", args=[refill.pk]),
            done=_("Refill %(id)s is now pending; refill status sync takes over.")
            % {"id": refill.pk},
            context={
                "title": _("Attach an upstream id to refill %(id)s") % {"id": refill.pk},
                "summary": _(
                    "Refill %(id)s of order %(order)s (%(provider)s, upstream order %(upstream)s)"
                )
                % {
                    "id": refill.pk,
                    "order": order.pk,
                    "provider": order.provider,
                    "upstream": order.upstream_order_id,
                },
                "last_error": refill.last_error or str(_("Stuck in sending past the timeout.")),
                "hint": _(
                    "If you found this refill in the provider's panel, enter its refill id "
                    "there. Refill status sync takes over."
                ),
            },
        )

    @admin.action(description=_("Resend (checked: not at the provider)"), permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Refill]) -> None:
        staff = cast(User, request.user)  # the admin only lets staff users in
        _each(self, request, queryset, lambda pk: refill_resend(refill_id=pk, staff=staff))

    @admin.action(description=_("Mark rejected (give up; no money moves)"), permissions=["change"])
    def mark_rejected(self, request: HttpRequest, queryset: QuerySet[Refill]) -> None:
        staff = cast(User, request.user)  # the admin only lets staff users in
        _each(self, request, queryset, lambda pk: refill_reject(refill_id=pk, staff=staff))


def _attach_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    form: forms.Form,
    label: str,
    in_review: bool,
    attach: Callable[[str], object],
    change_url: str,
    done: str,
    context: dict[str, object],
) -> HttpResponse:
    """The form page where staff type in the id they found in the provider's panel."""
    if not in_review:
        message = _("%(label)s does not need review: there is nothing to attach.") % {
            "label": label
        }
        model_admin.message_user(request, message, messages.WARNING)
        return HttpResponseRedirect(change_url)
    if request.method == "POST" and form.is_valid():
        field = next(iter(form.fields))
        try:
            attach(form.cleaned_data[field])
        except OrderError as exc:
            form.add_error(field, exc.message)
        else:
            model_admin.message_user(request, done, messages.SUCCESS)
            return HttpResponseRedirect(change_url)
    full = {**model_admin.admin_site.each_context(request), **context, "form": form}
    return TemplateResponse(request, "admin/orders/attach_upstream.html", full)


def _each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Order] | QuerySet[Refill],
    act: Callable[[int], object],
) -> None:
    """Run a service on each selected row; report the refusals row by row."""
    done, refused = 0, []
    for pk in queryset.values_list("pk", flat=True):
        try:
            act(pk)
        except OrderError as exc:
            refused.append(f"{pk}: {exc.message}")
        else:
            done += 1
    noun = model_admin.opts.verbose_name
    if done:
        model_admin.message_user(
            request,
            _("%(count)s %(noun)s(s) done.") % {"count": done, "noun": noun},
            messages.SUCCESS,
        )
    for line in refused:
        model_admin.message_user(request, line, messages.WARNING)


@admin.register(ProviderReconciliation)
class ProviderReconciliationAdmin(ModelAdmin):
    list_display = (
        "day",
        "provider",
        "opening_balance",
        "closing_balance",
        "top_ups",
        "orders_sent",
        "recorded_cost",
        "recorded_refunds",
        "discrepancy_display",
    )
    list_filter = ("provider",)
    list_select_related = ("provider",)
    date_hierarchy = "day"
    # Only the top-ups are typed in by staff; everything else is computed.
    readonly_fields = (
        "provider",
        "day",
        "opening_balance",
        "closing_balance",
        "orders_sent",
        "recorded_cost",
        "recorded_refunds",
        "discrepancy",
    )
    actions = ("recompute",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("Discrepancy"), ordering="discrepancy")
    def discrepancy_display(self, obj: ProviderReconciliation) -> str:
        if obj.discrepancy is None:
            return "no balance"
        if obj.discrepancy == 0:
            return "0"
        return format_html('<strong style="color:#b00">{}</strong>', obj.discrepancy)

    def save_model(
        self, request: HttpRequest, obj: ProviderReconciliation, form: object, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[arg-type]
        provider_id, day = obj.provider_id, obj.day
        # After commit: the admin's change form runs in a transaction, and the recompute may
        # ask the provider for its balance (no network I/O inside a transaction).
        transaction.on_commit(lambda: provider_reconcile(provider_id=provider_id, day=day))

    @admin.action(description=_("Recompute"))
    def recompute(self, request: HttpRequest, queryset: QuerySet[ProviderReconciliation]) -> None:
        for report in queryset:
            provider_reconcile(provider_id=report.provider_id, day=report.day)
        self.message_user(request, "Recomputed.", messages.SUCCESS)
