"""Admin: an interface over the order services (no workflow lives here)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from accounts.models import User
from orders.errors import OrderError
from orders.models import Order, ProviderReconciliation, Refill
from orders.services import (
    order_attach_upstream,
    order_cancel_and_refund,
    order_resend,
    provider_reconcile,
)


class AttachUpstreamForm(forms.Form):
    upstream_order_id = forms.CharField(label="Provider's order id", max_length=64)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "service",
        "status",
        "cancel_status",
        "quantity",
        "charge",
        "cost",
        "refunded",
        "provider",
        "upstream_order_id",
        "created_at",
    )
    list_filter = ("status", "cancel_status", "provider", "source", "type")
    search_fields = ("=id", "=upstream_order_id", "link", "user__email")
    list_select_related = ("user", "service", "provider")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    actions = ("resend", "cancel_and_refund")
    # Everything is written by services: the admin reads, and acts through the actions.
    readonly_fields = [f.name for f in Order._meta.fields] + ["review_links"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    @admin.display(description="Resolve")
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
            )
        ]
        return extra + super().get_urls()

    def attach_upstream_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        order = get_object_or_404(Order.objects.select_related("provider"), pk=order_id)
        form = AttachUpstreamForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                order_attach_upstream(
                    order_id=order.pk,
                    upstream_order_id=form.cleaned_data["upstream_order_id"],
                    staff=request.user,  # type: ignore[arg-type]
                )
            except OrderError as exc:
                form.add_error("upstream_order_id", exc.message)
            else:
                self.message_user(request, f"Order {order.pk} is now sent.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Attach an upstream id to order {order.pk}",
            "order": order,
            "form": form,
        }
        return TemplateResponse(request, "admin/orders/order/attach_upstream.html", context)

    @admin.action(description="Resend (checked: not at the provider)")
    def resend(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        staff = cast(User, request.user)  # the admin only lets staff users in
        self._each(request, queryset, lambda pk: order_resend(order_id=pk, staff=staff))

    @admin.action(description="Cancel and refund in full")
    def cancel_and_refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        staff = cast(User, request.user)  # the admin only lets staff users in
        self._each(request, queryset, lambda pk: order_cancel_and_refund(order_id=pk, staff=staff))

    def _each(self, request: HttpRequest, queryset: QuerySet[Order], act: object) -> None:
        done, refused = 0, []
        for pk in queryset.values_list("pk", flat=True):
            try:
                act(pk)  # type: ignore[operator]
            except OrderError as exc:
                refused.append(f"{pk}: {exc.message}")
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} order(s) done.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)


@admin.register(Refill)
class RefillAdmin(admin.ModelAdmin):
    list_display = ("id", "order", "status", "upstream_refill_id", "created_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("=id", "=order__id", "=upstream_refill_id", "order__user__email")
    list_select_related = ("order",)
    readonly_fields = [f.name for f in Refill._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ProviderReconciliation)
class ProviderReconciliationAdmin(admin.ModelAdmin):
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

    @admin.display(description="Discrepancy", ordering="discrepancy")
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

    @admin.action(description="Recompute")
    def recompute(self, request: HttpRequest, queryset: QuerySet[ProviderReconciliation]) -> None:
        for report in queryset:
            provider_reconcile(provider_id=report.provider_id, day=report.day)
        self.message_user(request, "Recomputed.", messages.SUCCESS)
