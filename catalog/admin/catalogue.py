"""Admin for categories and services: margins, filters, bulk pricing actions, custom rates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from accounts.models import User
from catalog.models import Category, RateChange, Service, UserRate
from catalog.pricing import cost_rate, default_markup_percent
from catalog.services import (
    category_save,
    check_covers_cost,
    service_update,
    services_move,
    services_set_enabled,
    services_set_markup,
    user_rate_set,
)
from catalog.services.upstream import UPSTREAM_FIELDS
from console.admin_helpers import audit_link, clipped, compact, money_cell, short_age
from console.models import AuditEntry
from console.services import audit_record
from panel.money import charge_amount

HUNDRED = Decimal(100)
# The columns of a service whose change is a price change (audited).
PRICE_FIELDS = ("fixed_rate", "markup_percent", "rate", "is_enabled")


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ["name", "sort_order", "markup_percent", "is_visible", "service_count"]
    list_editable = ["sort_order", "markup_percent", "is_visible"]
    search_fields = ["name"]
    ordering = ["sort_order", "name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(service_total=Count("services"))

    @admin.display(description=_("Services"), ordering="service_total")
    def service_count(self, obj: Category) -> int:
        return getattr(obj, "service_total", 0)

    def save_model(
        self, request: HttpRequest, obj: Category, form: forms.ModelForm, change: bool
    ) -> None:
        previous = Category.objects.filter(pk=obj.pk).first() if change else None
        saved = category_save(
            category_id=obj.pk if change else None,
            name=obj.name,
            sort_order=obj.sort_order,
            markup_percent=obj.markup_percent,
            is_visible=obj.is_visible,
        )
        obj.pk = saved.pk
        before = {"markup_percent": previous.markup_percent} if previous else {}
        if before.get("markup_percent") != saved.markup_percent or previous is None:
            audit_record(
                staff=cast(User, request.user),
                obj=saved,
                action=AuditEntry.Action.PRICE,
                message=str(_("Category markup changed.")),
                before=before,
                after={"markup_percent": saved.markup_percent},
            )


class BelowCostFilter(admin.SimpleListFilter):
    title = _("price vs cost")
    parameter_name = "below_cost"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", str(_("Below cost"))), ("no", str(_("Covers cost")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Service]) -> QuerySet[Service]:
        cost = F("upstream_rate") * F("provider__exchange_rate")
        if self.value() == "yes":
            return queryset.filter(rate__lt=cost)
        if self.value() == "no":
            return queryset.filter(rate__gte=cost)
        return queryset


class ServiceActionForm(ActionForm):
    markup_percent = forms.DecimalField(
        required=False, min_value=0, max_digits=7, decimal_places=2, label=_("Markup %")
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.order_by("sort_order", "name"),
        required=False,
        label=_("Category"),
    )


class ServiceForm(forms.ModelForm):
    markup_percent = forms.DecimalField(required=False, min_value=0, max_digits=7, decimal_places=2)
    fixed_rate = forms.DecimalField(required=False, min_value=0, max_digits=18, decimal_places=5)

    class Meta:
        model = Service
        fields = [
            "name",
            "description",
            "category",
            "fixed_rate",
            "markup_percent",
            "is_enabled",
            "refill_days",
            "allow_unlimited_posts",
            "average_time",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is not None:
            try:
                check_covers_cost(self.instance, cleaned.get("fixed_rate"), "fixed_rate")
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


class UserRateForm(forms.ModelForm):
    class Meta:
        model = UserRate
        fields = ["user", "rate"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        service = getattr(self.instance, "service", None)
        if service is not None and cleaned.get("rate") is not None:
            try:
                check_covers_cost(service, cleaned["rate"], "rate")
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


class UserRateInline(TabularInline):
    model = UserRate
    form = UserRateForm
    raw_id_fields = ["user"]
    extra = 0


class RateChangeInline(TabularInline):
    model = RateChange
    fields = ["changed_at", "old_rate", "new_rate"]
    readonly_fields = ["changed_at", "old_rate", "new_rate"]
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-changed_at"]


@admin.register(Service)
class ServiceAdmin(ModelAdmin):
    form = ServiceForm
    action_form = ServiceActionForm
    list_display = [
        "id",
        "short_name",
        "provider_short",
        "category_short",
        "cost",
        "price",
        "markup",
        "margin",
        "min_max",
        "enabled",
        "last_sync",
    ]
    list_display_links = ["id", "short_name"]
    list_filter = ["provider", "category", "type", "is_enabled", "is_available", BelowCostFilter]
    list_select_related = ["provider", "category"]
    search_fields = ["=id", "name", "upstream_name", "=upstream_id", "category__name"]
    show_full_result_count = False
    list_per_page = 100
    # Provider-owned fields are read-only: the next sync would overwrite an edit.
    readonly_fields = [
        "provider",
        "upstream_id",
        *UPSTREAM_FIELDS,
        "cost",
        "rate",
        "margin",
        "is_available",
        "created_at",
        "updated_at",
        "audit_trail",
    ]
    fieldsets = [
        (None, {"fields": ["name", "description", "category", "is_enabled", "is_available"]}),
        (_("Price"), {"fields": ["fixed_rate", "markup_percent", "rate", "cost", "margin"]}),
        (
            _("Upstream (read-only, from the provider)"),
            {"fields": ["provider", "upstream_id", *UPSTREAM_FIELDS]},
        ),
        (_("Options"), {"fields": ["refill_days", "allow_unlimited_posts", "average_time"]}),
        (_("Dates"), {"fields": ["created_at", "updated_at", "audit_trail"]}),
    ]
    inlines = [UserRateInline, RateChangeInline]
    actions = ["enable", "disable", "set_markup", "move_to_category"]

    @admin.display(description=_("Audit log"))
    def audit_trail(self, obj: Service) -> str:
        return audit_link(obj)

    @admin.display(description=_("Name"), ordering="name")
    def short_name(self, obj: Service) -> str:
        return clipped(obj.name, 19)

    @admin.display(description=_("Provider"), ordering="provider__name")
    def provider_short(self, obj: Service) -> str:
        return clipped(obj.provider.name, 10)

    @admin.display(description=_("Category"), ordering="category__name")
    def category_short(self, obj: Service) -> str:
        return clipped(obj.category.name, 12)

    @admin.display(description=_("Expense"))
    def cost(self, obj: Service) -> str:
        return money_cell(charge_amount(cost_rate(obj)))

    @admin.display(description=_("Price"), ordering="rate")
    def price(self, obj: Service) -> str:
        return money_cell(obj.rate)

    @admin.display(description=_("Markup"))
    def markup(self, obj: Service) -> str:
        """The markup in force; an inherited one is shown greyed with where it comes from."""
        if obj.fixed_rate is not None:
            return str(_("fixed"))
        if obj.markup_percent is not None:
            return f"{obj.markup_percent}%"
        if obj.category.markup_percent is not None:
            value, source = obj.category.markup_percent, _("category")
        elif obj.provider.default_markup_percent is not None:
            value, source = obj.provider.default_markup_percent, _("provider")
        else:
            value, source = default_markup_percent(), _("default")
        return format_html('<span class="text-base-400" title="{}">{}%</span>', source, value)

    @admin.display(description=_("Margin"))
    def margin(self, obj: Service) -> str:
        cost = cost_rate(obj)
        if not cost:
            return "-"
        return f"{(Decimal(obj.rate) - cost) / cost * HUNDRED:.1f}%"

    @admin.display(description=_("Min–max"))
    def min_max(self, obj: Service) -> str:
        return f"{compact(obj.min_quantity)}–{compact(obj.max_quantity)}"

    @admin.display(description=_("On"), boolean=True, ordering="is_enabled")
    def enabled(self, obj: Service) -> bool:
        return obj.is_enabled

    @admin.display(description=_("Synced"), ordering="provider__last_synced_at")
    def last_sync(self, obj: Service) -> str:
        return short_age(obj.provider.last_synced_at)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # services come from a provider's catalogue (sync)

    def has_delete_permission(self, request: HttpRequest, obj: Service | None = None) -> bool:
        return False  # never deleted: orders point at them; disable instead

    def save_model(
        self, request: HttpRequest, obj: Service, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        before = Service.objects.values(*PRICE_FIELDS).get(pk=obj.pk)
        saved = service_update(
            service_id=obj.pk,
            name=data["name"],
            description=data.get("description") or "",
            category_id=data["category"].pk,
            fixed_rate=data.get("fixed_rate"),
            markup_percent=data.get("markup_percent"),
            is_enabled=data["is_enabled"],
            refill_days=data["refill_days"],
            allow_unlimited_posts=data["allow_unlimited_posts"],
            average_time=data.get("average_time") or "",
        )
        after = {name: getattr(saved, name) for name in PRICE_FIELDS}
        if before != after:
            audit_record(
                staff=cast(User, request.user),
                obj=saved,
                action=AuditEntry.Action.PRICE,
                message=str(_("Service price rules edited.")),
                before=before,
                after=after,
            )

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool
    ) -> None:
        if formset.model is not UserRate:
            return super().save_formset(request, form, formset, change)
        service_id = form.instance.pk
        # The admin's change message reads these (normally set by formset.save()).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            data = getattr(row, "cleaned_data", None)
            if not data or not (row.has_changed() or data.get("DELETE")):
                continue
            previous_user = row.initial.get("user")
            if data.get("DELETE") or (previous_user and previous_user != data["user"].pk):
                if row.instance.pk:
                    UserRate.objects.filter(pk=row.instance.pk).delete()
                if data.get("DELETE"):
                    continue
            user_rate_set(user=data["user"], service_id=service_id, rate=data["rate"])
            audit_record(
                staff=cast(User, request.user),
                obj=data["user"],
                action=AuditEntry.Action.PRICE,
                message=str(_("Custom rate for service %(id)s set.") % {"id": service_id}),
                before={"rate": row.initial.get("rate")},
                after={"rate": data["rate"]},
            )
        return None

    def _ids(self, queryset: QuerySet[Service]) -> list[int]:
        return list(queryset.values_list("pk", flat=True))

    @admin.action(description=_("Enable selected services"))
    def enable(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        result = services_set_enabled(service_ids=self._ids(queryset), enabled=True)
        self.message_user(
            request,
            _("%(count)s service(s) enabled.") % {"count": result.changed},
            messages.SUCCESS,
        )
        if result.refused:
            refused = ", ".join(f"#{pk}" for pk in result.refused)
            self.message_user(
                request,
                _("Not enabled, their fixed price is below cost: %(ids)s.") % {"ids": refused},
                messages.WARNING,
            )

    @admin.action(description=_("Disable selected services"))
    def disable(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        result = services_set_enabled(service_ids=self._ids(queryset), enabled=False)
        self.message_user(
            request,
            _("%(count)s service(s) disabled.") % {"count": result.changed},
            messages.SUCCESS,
        )

    @admin.action(description=_("Set markup %% (removes fixed prices; empty = inherit)"))
    def set_markup(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        markup = self._action_value(request, "markup_percent")
        ids = self._ids(queryset)
        before = {
            pk: (rate, markup_old)
            for pk, rate, markup_old in Service.objects.filter(pk__in=ids).values_list(
                "pk", "rate", "markup_percent"
            )
        }
        with transaction.atomic():
            count = services_set_markup(service_ids=ids, markup_percent=markup)
            staff = cast(User, request.user)
            for service in Service.objects.filter(pk__in=ids):
                old_rate, old_markup = before[service.pk]
                audit_record(
                    staff=staff,
                    obj=service,
                    action=AuditEntry.Action.PRICE,
                    message=str(_("Markup set from the services list.")),
                    before={"rate": old_rate, "markup_percent": old_markup},
                    after={"rate": service.rate, "markup_percent": service.markup_percent},
                )
        shown = f"{markup}%" if markup is not None else str(_("the inherited markup"))
        self.message_user(
            request,
            _("%(count)s service(s) now priced at %(markup)s.") % {"count": count, "markup": shown},
            messages.SUCCESS,
        )

    @admin.action(description=_("Move to category"))
    def move_to_category(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        category = self._action_value(request, "category")
        if category is None:
            self.message_user(request, _("Choose a category next to the action."), messages.ERROR)
            return
        count = services_move(service_ids=self._ids(queryset), category_id=category.pk)
        self.message_user(
            request,
            _("%(count)s service(s) moved to %(category)s.")
            % {"count": count, "category": category},
            messages.SUCCESS,
        )

    def _action_value(self, request: HttpRequest, name: str) -> Any:
        form = self.action_form(request.POST)
        action = form.fields["action"]
        if isinstance(action, forms.ChoiceField):
            action.choices = self.get_action_choices(request)
        return form.cleaned_data.get(name) if form.is_valid() else None
