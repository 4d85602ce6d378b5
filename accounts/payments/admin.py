"""Admin for payment methods: manual methods and deposit bonus rules (plain configuration), and
the review queue of manual payments, whose approve / reject call the manual-payment services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from accounts.models import DepositBonus, ManualMethod, ManualPayment, Payment, User
from accounts.payments.manual import manual_payment_approve, manual_payment_reject


@admin.register(ManualMethod)
class ManualMethodAdmin(ModelAdmin):
    list_display = (
        "name",
        "min_deposit",
        "max_deposit",
        "fee_percent",
        "receipt_required",
        "is_enabled",
        "position",
    )
    list_editable = ("is_enabled", "position")
    list_filter = ("is_enabled",)
    search_fields = ("name",)

    def has_delete_permission(self, request: HttpRequest, obj: ManualMethod | None = None) -> bool:
        # Payments refer to their method; disable a method instead of deleting it.
        return False


@admin.register(DepositBonus)
class DepositBonusAdmin(ModelAdmin):
    list_display = ("min_amount", "percent", "is_enabled")
    list_editable = ("percent", "is_enabled")
    ordering = ("min_amount",)


class PendingFirstFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "review"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("pending", _("Waiting for review")), ("decided", _("Decided"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Payment]) -> QuerySet[Payment]:
        if self.value() == "pending":
            return queryset.filter(status=Payment.Status.PENDING)
        if self.value() == "decided":
            return queryset.exclude(status=Payment.Status.PENDING)
        return queryset


@admin.register(ManualPayment)
class ManualPaymentAdmin(ModelAdmin):
    """Customers' reports of manual payments. Open one to see the receipt and approve or
    reject it; approving credits the balance once (payment_confirm)."""

    list_display = (
        "id",
        "created_at",
        "user",
        "method",
        "amount",
        "fee",
        "bonus",
        "reference",
        "receipt_link",
        "status",
        "reviewed_by",
    )
    list_filter = (PendingFirstFilter, "method")
    search_fields = ("user__email", "reference", "=id")
    list_select_related = ("user", "method", "reviewed_by")
    actions = ("approve_selected", "reject_selected")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payment]:
        return super().get_queryset(request).filter(method__isnull=False)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Payment | None = None) -> bool:
        return False

    @admin.action(description=_("Approve: credit the selected payments"), permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        staff: User = request.user  # type: ignore[assignment]
        done = sum(manual_payment_approve(payment_id=p.pk, staff=staff) for p in queryset)
        messages.success(request, gettext("%(count)s payment(s) credited.") % {"count": done})

    @admin.action(description=_("Reject the selected payments"), permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        staff: User = request.user  # type: ignore[assignment]
        done = sum(manual_payment_reject(payment_id=p.pk, staff=staff) for p in queryset)
        messages.success(request, gettext("%(count)s payment(s) rejected.") % {"count": done})

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The review page: what the customer reported, the receipt, approve / reject."""
        payment = (
            self.get_queryset(request)
            .select_related("user", "method", "reviewed_by")
            .filter(pk=object_id)
            .first()
            if object_id.isdigit()
            else None
        )
        if payment is None:
            raise Http404
        if not self.has_view_or_change_permission(request, payment):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_change_permission(request, payment):
                raise PermissionDenied
            staff: User = request.user  # type: ignore[assignment]
            action = request.POST.get("action")
            if action == "approve":
                if manual_payment_approve(payment_id=payment.pk, staff=staff):
                    messages.success(request, gettext("The payment was credited."))
                else:
                    messages.error(request, gettext("This payment was already decided."))
            elif action == "reject":
                reason = request.POST.get("reason", "")[:200]
                if manual_payment_reject(payment_id=payment.pk, staff=staff, reason=reason):
                    messages.success(request, gettext("The payment was rejected."))
                else:
                    messages.error(request, gettext("This payment was already decided."))
            return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Manual payment #%(id)s") % {"id": payment.pk},
            "payment": payment,
            "receipt_url": reverse("payment_receipt", args=[payment.pk]) if payment.receipt else "",
            "can_change": self.has_change_permission(request, payment),
            "changelist_url": reverse("admin:accounts_manualpayment_changelist"),
            **(extra_context or {}),
        }
        return render(request, "admin/accounts/manualpayment/review.html", context)

    @admin.display(description=_("receipt"))
    def receipt_link(self, payment: Payment) -> str:
        if not payment.receipt:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("payment_receipt", args=[payment.pk]), _("view")
        )
