"""Admin for custom rates, rate history and alerts."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from accounts.models import User
from catalog.models import CatalogAlert, RateChange, UserRate
from catalog.services import check_covers_cost, user_rate_set
from console.models import AuditEntry
from console.services import audit_record


class StandaloneUserRateForm(forms.ModelForm):
    class Meta:
        model = UserRate
        fields = ["user", "service", "rate"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("service") is not None and cleaned.get("rate") is not None:
            try:
                check_covers_cost(cleaned["service"], cleaned["rate"], "rate")
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


@admin.register(UserRate)
class UserRateAdmin(ModelAdmin):
    form = StandaloneUserRateForm
    list_display = ["user", "service", "rate"]
    list_select_related = ["user", "service"]
    raw_id_fields = ["user", "service"]
    search_fields = ["user__email", "service__name", "=service__id"]

    def save_model(
        self, request: HttpRequest, obj: UserRate, form: forms.ModelForm, change: bool
    ) -> None:
        if change and obj.pk:
            previous = (
                UserRate.objects.filter(pk=obj.pk).values_list("user_id", "service_id").first()
            )
            if previous and previous != (obj.user_id, obj.service_id):
                UserRate.objects.filter(pk=obj.pk).delete()
        before = UserRate.objects.filter(user=obj.user, service_id=obj.service_id).first()
        saved = user_rate_set(user=obj.user, service_id=obj.service_id, rate=obj.rate)
        if saved is not None:
            obj.pk = saved.pk
        audit_record(
            staff=cast(User, request.user),
            obj=obj.user,
            action=AuditEntry.Action.PRICE,
            message=str(_("Custom rate for service %(id)s set.") % {"id": obj.service_id}),
            before={"rate": before.rate if before else None},
            after={"rate": obj.rate},
        )


@admin.register(RateChange)
class RateChangeAdmin(ModelAdmin):
    list_display = ["changed_at", "service", "old_rate", "new_rate"]
    list_select_related = ["service"]
    list_filter = ["service__provider"]
    search_fields = ["=service__id", "service__name"]
    date_hierarchy = "changed_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RateChange | None = None) -> bool:
        return False


@admin.register(CatalogAlert)
class CatalogAlertAdmin(ModelAdmin):
    list_display = ["created_at", "kind", "provider", "service", "message", "resolved_at"]
    list_select_related = ["provider", "service"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter), "provider"]
    search_fields = ["message"]
    readonly_fields = ["created_at", "kind", "provider", "service", "message", "resolved_at"]
    actions = ["resolve"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Mark as resolved"))
    def resolve(self, request: HttpRequest, queryset: QuerySet[CatalogAlert]) -> None:
        count = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(
            request, _("%(count)s alert(s) resolved.") % {"count": count}, messages.SUCCESS
        )
