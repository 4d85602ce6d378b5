"""Provider admin: a write-only API key, health, "Test connection" and "Sync catalogue now"."""

from __future__ import annotations

import logging
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.validators import MinValueValidator
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action

from accounts.models import User
from catalog.models import Provider, Service
from catalog.services import (
    provider_create,
    provider_sync_catalogue,
    provider_test_connection,
    provider_update,
)
from catalog.services.providers import KEY_AGAIN_MESSAGE, url_host
from catalog.tasks import sync_provider
from console.admin_helpers import audit_link, money_cell, short_age
from console.models import AuditEntry
from console.services import audit_record
from orders import states
from orders.models import Order

logger = logging.getLogger("catalog.admin")

# Provider columns whose change is recorded in the audit log (never the API key).
AUDITED = (
    "name",
    "api_url",
    "currency",
    "exchange_rate",
    "default_markup_percent",
    "is_enabled",
    "low_balance_threshold",
    "is_paused",
)


def _back(request: HttpRequest, object_id: object) -> str:
    """Back to where the click came from: the provider's page or the list.

    The confirmation page passes on where it was opened from (its own address is the POST's
    referer); only ever one of our two addresses comes out, so it cannot redirect elsewhere.
    """
    came_from = request.POST.get("back") or request.headers.get("referer", "")
    if f"/{object_id}/change/" in came_from:
        return reverse("admin:catalog_provider_change", args=[object_id])
    return reverse("admin:catalog_provider_changelist")


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
        label=_("API key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Write-only. Leave empty to keep the current key."),
    )
    api_url = forms.URLField(label=_("API URL"), max_length=500, assume_scheme="https")
    default_markup_percent = forms.DecimalField(
        required=False,
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text=_("Used when neither the service nor its category sets a markup."),
    )
    exchange_rate = forms.DecimalField(
        max_digits=18,
        decimal_places=8,
        validators=[MinValueValidator(0)],
        help_text=_("Panel currency units per one unit of the provider's currency."),
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
        "balance_display",
        "last_sync",
        "paused",
        "open_orders",
        "health",
        "service_count",
    ]
    list_filter = ["is_enabled", "is_paused"]
    search_fields = ["name", "api_url"]
    # The theme renders these as plain links, so a GET only shows a confirmation page and its
    # POST calls the provider (the outcome shown as a message): a link or an <img> a staff
    # member's browser loads must not call a provider.
    actions_row = ["refresh_balance", "sync_catalogue"]
    actions_detail = ["refresh_balance", "sync_catalogue"]
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
        "audit_trail",
    ]
    fieldsets = [
        (None, {"fields": ["name", "api_url", "api_key", "is_enabled"]}),
        (_("Money"), {"fields": ["currency", "exchange_rate", "default_markup_percent"]}),
        (_("Sync"), {"fields": ["sync_interval_minutes", "last_synced_at", "last_sync_stats"]}),
        (
            _("Health"),
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
        (_("Audit log"), {"fields": ["audit_trail"]}),
    ]
    actions = ["test_connection", "sync_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Provider]:
        services = Service.objects.filter(provider=OuterRef("pk")).order_by().values("provider")
        open_orders = (
            Order.objects.filter(provider=OuterRef("pk"), status__in=states.OPEN)
            .order_by()
            .values("provider")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                service_total=Subquery(services.annotate(n=Count("pk")).values("n")),
                open_total=Subquery(open_orders.annotate(n=Count("pk")).values("n")),
            )
        )

    @admin.display(description=_("Balance"), ordering="balance")
    def balance_display(self, obj: Provider) -> str:
        if obj.balance is None:
            return str(_("not checked"))
        low = obj.low_balance_threshold is not None and obj.balance < obj.low_balance_threshold
        amount = format_html("{} {}", money_cell(obj.balance), obj.currency)
        if low:
            amount = format_html('<strong class="text-red-600">{}</strong>', amount)
        if obj.balance_checked_at is None:
            return amount
        return format_html("{} · {}", amount, short_age(obj.balance_checked_at))

    @admin.display(description=_("Last sync"), ordering="last_synced_at")
    def last_sync(self, obj: Provider) -> str:
        stats = obj.last_sync_stats or {}
        summary = ", ".join(f"{key} {value}" for key, value in stats.items() if value)
        return format_html('<span title="{}">{}</span>', summary, short_age(obj.last_synced_at))

    @admin.display(description=_("Paused"), ordering="is_paused")
    def paused(self, obj: Provider) -> str:
        if not obj.is_paused:
            return "-"
        reason = obj.paused_reason or str(_("paused"))
        return format_html(
            '<span class="text-red-600" title="{}">{}</span>', reason, Truncator(reason).chars(30)
        )

    @admin.display(description=_("Audit log"))
    def audit_trail(self, obj: Provider) -> str:
        return audit_link(obj)

    @admin.display(description=_("Open orders"), ordering="open_total")
    def open_orders(self, obj: Provider) -> int:
        return getattr(obj, "open_total", None) or 0

    def _ask_first(
        self,
        request: HttpRequest,
        object_id: int,
        *,
        title: Promise,
        question: Promise,
        explanation: Promise,
    ) -> HttpResponse | None:
        """A provider action's GET: what it will do, and a CSRF-protected form to do it; 405
        for methods other than GET and POST; None for the POST, which does it."""
        if request.method == "POST":
            return None
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET", "POST"])
        provider = self.get_object(request, str(object_id))
        if provider is None:
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": provider,
            "title": title,
            "subtitle": provider.name,
            "question": question % {"name": provider.name},
            "explanation": explanation,
            "back": _back(request, object_id),
        }
        return TemplateResponse(request, "admin/catalog/provider/action_confirm.html", context)

    @action(description=_("Refresh balance"), url_path="refresh-balance", permissions=["change"])
    def refresh_balance(self, request: HttpRequest, object_id: int) -> HttpResponse:
        asked = self._ask_first(
            request,
            object_id,
            title=_("Refresh balance"),
            question=_("Refresh the balance of “%(name)s”?"),
            explanation=_(
                "The panel asks the provider for its balance now, with the stored API key, "
                "and records the answer or the error."
            ),
        )
        if asked is not None:
            return asked
        check = provider_test_connection(provider_id=int(object_id))
        level = messages.SUCCESS if check.ok else messages.ERROR
        self.message_user(request, check.message, level)
        return HttpResponseRedirect(_back(request, object_id))

    @action(description=_("Sync now"), url_path="sync-now", permissions=["change"])
    def sync_catalogue(self, request: HttpRequest, object_id: int) -> HttpResponse:
        asked = self._ask_first(
            request,
            object_id,
            title=_("Sync now"),
            question=_("Sync the catalogue of “%(name)s” now?"),
            explanation=_(
                "The panel downloads the provider's service list now and updates the "
                "catalogue: new services are added, changed ones updated and services the "
                "provider no longer lists are marked unavailable."
            ),
        )
        if asked is not None:
            return asked
        result = provider_sync_catalogue(provider_id=int(object_id))
        if result.status == "failed":
            self.message_user(
                request, _("Sync failed: %(error)s") % {"error": result.error}, messages.ERROR
            )
        elif result.status == "locked":
            self.message_user(
                request, _("A sync of this provider is running already."), messages.WARNING
            )
        else:
            stats = ", ".join(f"{key}: {value}" for key, value in result.stats().items())
            self.message_user(
                request, _("Catalogue synced. %(stats)s") % {"stats": stats}, messages.SUCCESS
            )
        return HttpResponseRedirect(_back(request, object_id))

    @admin.display(description=_("Services"), ordering="service_total")
    def service_count(self, obj: Provider) -> int:
        return getattr(obj, "service_total", 0)

    @admin.display(description=_("Health"))
    def health(self, obj: Provider) -> str:
        if obj.last_error_at and (
            not obj.last_success_at or obj.last_error_at > obj.last_success_at
        ):
            return _("Error: %(error)s") % {"error": obj.last_error[:80]}
        if obj.last_success_at:
            return str(_("OK"))
        return str(_("Never checked"))

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
        before = Provider.objects.values(*AUDITED).get(pk=obj.pk) if change else {}
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
        after = {name: getattr(saved, name) for name in AUDITED}
        if data.get("api_key"):
            # Never the key itself: only that it was replaced.
            after["api_key"] = "replaced" if change else "set"
        if before != after:
            audit_record(
                staff=cast(User, request.user),
                obj=saved,
                action=AuditEntry.Action.PROVIDER,
                message=str(_("Provider edited.") if change else _("Provider added.")),
                before=before,
                after=after,
            )

    @admin.action(description=_("Test connection (balance)"))
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            check = provider_test_connection(provider_id=provider.pk)
            level = messages.SUCCESS if check.ok else messages.ERROR
            self.message_user(request, f"{provider.name}: {check.message}", level)

    @admin.action(description=_("Sync catalogue now"))
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            try:
                sync_provider.delay(provider.pk)
            except Exception:  # the broker is down: say so instead of a 500
                logger.exception("Could not queue the sync of provider %s", provider.pk)
                self.message_user(
                    request,
                    _("%(name)s: could not queue the sync (broker down?).")
                    % {"name": provider.name},
                    messages.ERROR,
                )
                continue
            self.message_user(
                request,
                _("%(name)s: catalogue sync queued.") % {"name": provider.name},
                messages.SUCCESS,
            )
