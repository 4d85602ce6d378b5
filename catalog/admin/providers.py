"""Provider admin: a write-only API key, health, "Test connection" and "Sync catalogue now"."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.validators import MinValueValidator
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from catalog.models import Provider
from catalog.services import provider_create, provider_test_connection, provider_update
from catalog.services.providers import KEY_AGAIN_MESSAGE, url_host
from catalog.tasks import sync_provider

logger = logging.getLogger("catalog.admin")

EDITABLE = [
    "name",
    "api_url",
    "currency",
    "exchange_rate",
    "default_markup_percent",
    "is_enabled",
    "sync_interval_minutes",
    "low_balance_threshold",
    "is_paused",
]


class ProviderForm(forms.ModelForm):
    # Write-only: rendered empty, never filled from the stored key (render_value=False).
    api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave empty to keep the current key.",
    )
    api_url = forms.URLField(label="API URL", max_length=500, assume_scheme="https")
    default_markup_percent = forms.DecimalField(
        required=False,
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text="Used when neither the service nor its category sets a markup.",
    )
    exchange_rate = forms.DecimalField(
        max_digits=18,
        decimal_places=8,
        validators=[MinValueValidator(0)],
        help_text="Panel currency units per one unit of the provider's currency.",
    )

    class Meta:
        model = Provider
        fields = EDITABLE

    def clean_exchange_rate(self) -> Any:
        rate = self.cleaned_data["exchange_rate"]
        if rate is not None and rate <= 0:
            raise forms.ValidationError("Must be greater than 0.")
        return rate

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None and not cleaned.get("api_key"):
            self.add_error("api_key", "Enter the provider's API key.")
        url = cleaned.get("api_url")
        if (
            self.instance.pk is not None
            and url
            and not cleaned.get("api_key")
            and url_host(url) != url_host(self.instance.api_url)
        ):
            # provider_update refuses it too; said here as a field error, not a 500.
            self.add_error("api_key", KEY_AGAIN_MESSAGE)
        return cleaned


@admin.register(Provider)
class ProviderAdmin(ModelAdmin):
    form = ProviderForm
    list_display = [
        "name",
        "is_enabled",
        "currency",
        "balance",
        "balance_checked_at",
        "last_synced_at",
        "health",
        "service_count",
    ]
    list_filter = ["is_enabled", "is_paused"]
    search_fields = ["name", "api_url"]
    readonly_fields = [
        "paused_reason",
        "balance",
        "balance_checked_at",
        "last_success_at",
        "last_error",
        "last_error_at",
        "last_synced_at",
        "last_sync_stats",
        "sync_lease_until",
    ]
    fieldsets = [
        (None, {"fields": ["name", "api_url", "api_key", "is_enabled"]}),
        ("Money", {"fields": ["currency", "exchange_rate", "default_markup_percent"]}),
        ("Sync", {"fields": ["sync_interval_minutes", "last_synced_at", "last_sync_stats"]}),
        (
            "Health",
            {
                "fields": [
                    "balance",
                    "balance_checked_at",
                    "low_balance_threshold",
                    "is_paused",
                    "paused_reason",
                    "last_success_at",
                    "last_error",
                    "last_error_at",
                    "sync_lease_until",
                ]
            },
        ),
    ]
    actions = ["test_connection", "sync_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Provider]:
        return super().get_queryset(request).annotate(service_total=Count("services"))

    @admin.display(description="Services", ordering="service_total")
    def service_count(self, obj: Provider) -> int:
        return getattr(obj, "service_total", 0)

    @admin.display(description="Health")
    def health(self, obj: Provider) -> str:
        if obj.last_error_at and (
            not obj.last_success_at or obj.last_error_at > obj.last_success_at
        ):
            return f"Error: {obj.last_error[:80]}"
        if obj.last_success_at:
            return "OK"
        return "Never checked"

    def save_model(
        self, request: HttpRequest, obj: Provider, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "api_url": data["api_url"],
            "currency": data["currency"],
            "exchange_rate": data["exchange_rate"],
            "default_markup_percent": data.get("default_markup_percent"),
            "sync_interval_minutes": data["sync_interval_minutes"],
            "low_balance_threshold": data.get("low_balance_threshold"),
            "is_enabled": data["is_enabled"],
        }
        if change:
            saved = provider_update(
                provider_id=obj.pk,
                api_key=data.get("api_key") or None,
                is_paused=data["is_paused"],
                **fields,
            )
        else:
            saved = provider_create(api_key=data["api_key"], **fields)
        obj.pk = saved.pk
        obj.api_key_encrypted = saved.api_key_encrypted

    @admin.action(description="Test connection (balance)")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            check = provider_test_connection(provider_id=provider.pk)
            level = messages.SUCCESS if check.ok else messages.ERROR
            self.message_user(request, f"{provider.name}: {check.message}", level)

    @admin.action(description="Sync catalogue now")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            try:
                sync_provider.delay(provider.pk)
            except Exception:  # the broker is down: say so instead of a 500
                logger.exception("Could not queue the sync of provider %s", provider.pk)
                self.message_user(
                    request,
                    f"{provider.name}: could not queue the sync (broker down?).",
                    messages.ERROR,
                )
                continue
            self.message_user(request, f"{provider.name}: catalogue sync queued.", messages.SUCCESS)
