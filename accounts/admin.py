"""Django admin for accounts and money: an interface over the services, never around them."""

from __future__ import annotations

from decimal import Decimal

from allauth.account.decorators import secure_admin_login
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, F, OuterRef, QuerySet, Subquery, Sum
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action
from unfold.forms import AdminPasswordChangeForm, UserChangeForm

from accounts.models import ApiKey, LedgerEntry, Payment, User
from accounts.services import InsufficientFunds, funds_adjust
from catalog.models import UserRate
from console.admin_helpers import audit_link, clipped, money_cell, short_age
from console.export import csv_stream
from orders.models import Order
from panel.money import PLACES, money

# Why: Django's admin login would authenticate outside allauth, skipping its rate limits
# (and MFA). Staff log in through allauth like everyone else, then come back here.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]


class FundsAdjustForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=18,
        decimal_places=PLACES,
        help_text=_("Positive to add funds, negative to remove them."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        help_text=_("Recorded in the ledger; the user sees it."),
    )

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("Enter a non-zero amount."))
        return amount

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("A reason is required."))
        return reason


class EmailUserCreationForm(UserCreationForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = ("email",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin, ModelAdmin):
    add_form = EmailUserCreationForm
    form = UserChangeForm
    change_password_form = AdminPasswordChangeForm
    ordering = ("email",)
    list_display = (
        "email_short",
        "role_short",
        "balance_cell",
        "spent",
        "custom_rates",
        "api_key_state",
        "staff",
        "active",
        "joined",
    )
    list_display_links = ("email_short",)
    list_filter = ("role", "is_staff", "is_active")
    search_fields = ("email", "first_name", "last_name")
    readonly_fields = ("balance", "funds_link", "audit_trail", "last_login", "date_joined")
    actions_row = ["adjust_balance"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("first_name", "last_name", "timezone", "language")}),
        (
            _("Money"),
            {"fields": ("balance", "funds_link", "role", "discount_percent", "audit_trail")},
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    # Why: with only "change user", staff could tick is_superuser or add every permission to
    # their own account. Who gets admin rights is for superusers to decide.
    PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [name for name in self.PRIVILEGE_FIELDS if name not in fields]
        return fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        # Correlated subqueries, evaluated for the rows of the page only (not a GROUP BY over
        # every order of every user).
        orders = Order.objects.filter(user=OuterRef("pk")).order_by().values("user")
        spent = orders.annotate(total=Sum(F("charge") - F("refunded"))).values("total")
        rates = (
            UserRate.objects.filter(user=OuterRef("pk"))
            .order_by()
            .values("user")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .select_related("api_key")
            .annotate(
                spent_total=Subquery(spent, output_field=DecimalField()),
                rate_count=Subquery(rates),
            )
        )

    @admin.display(description=_("Email"), ordering="email")
    def email_short(self, obj: User) -> str:
        return clipped(obj.email, 26)

    @admin.display(description=_("Role"), ordering="role")
    def role_short(self, obj: User) -> str:
        return obj.get_role_display()

    @admin.display(description=_("Staff"), boolean=True, ordering="is_staff")
    def staff(self, obj: User) -> bool:
        return obj.is_staff

    @admin.display(description=_("Active"), boolean=True, ordering="is_active")
    def active(self, obj: User) -> bool:
        return obj.is_active

    @admin.display(description=_("Joined"), ordering="date_joined")
    def joined(self, obj: User) -> str:
        return date_format(localtime(obj.date_joined), "SHORT_DATE_FORMAT")

    @admin.display(description=_("Balance"), ordering="balance")
    def balance_cell(self, obj: User) -> str:
        return money_cell(obj.balance)

    @admin.display(description=_("Spent"))
    def spent(self, obj: User) -> str:
        return money_cell(money(getattr(obj, "spent_total", None) or 0))

    @admin.display(description=_("Custom rates"))
    def custom_rates(self, obj: User) -> int:
        return getattr(obj, "rate_count", None) or 0

    @admin.display(description=_("API key"))
    def api_key_state(self, obj: User) -> str:
        key = getattr(obj, "api_key", None)
        if key is None:
            return str(_("none"))
        if key.last_used_at is None:
            return _("%(prefix)s…, never used") % {"prefix": key.prefix}
        return _("%(prefix)s…, used %(age)s ago") % {
            "prefix": key.prefix,
            "age": short_age(key.last_used_at),
        }

    @admin.display(description=_("Audit log"))
    def audit_trail(self, obj: User) -> str:
        return audit_link(obj)

    @action(description=_("Adjust balance"), url_path="adjust-balance", permissions=["change"])
    def adjust_balance(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:accounts_user_funds", args=[object_id]))

    @admin.display(description=_("Adjust balance"))
    def funds_link(self, obj: User) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:accounts_user_funds", args=[obj.pk])
        return format_html('<a class="button" href="{}">Add or remove funds…</a>', url)

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<int:user_id>/funds/",
                self.admin_site.admin_view(self.funds_view),
                name="accounts_user_funds",
            ),
        ]
        return custom + super().get_urls()  # type: ignore[operator]

    def funds_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        """Add or remove funds with a reason: one audited ADJUSTMENT ledger entry."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            raise Http404
        form = FundsAdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                entry = funds_adjust(
                    user=user,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    staff=request.user,  # type: ignore[arg-type]
                )
            except InsufficientFunds:
                form.add_error(
                    "amount",
                    _("The balance is only %(balance)s; it cannot go below 0.")
                    % {"balance": user.balance},
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    _("Balance of %(email)s changed by %(amount)s; now %(balance)s.")
                    % {"email": user.email, "amount": entry.amount, "balance": entry.balance_after},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Adjust the balance of %(email)s") % {"email": user.email},
            "opts": self.model._meta,
            "original": user,
            "form": form,
            "recent_entries": LedgerEntry.objects.filter(user=user).order_by("-id")[:10],
        }
        return render(request, "admin/accounts/user/adjust_funds.html", context)


class ReadOnlyAdmin(ModelAdmin):
    """Rows written only by services: staff can look, never add, edit or delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


LEDGER_CSV = [
    ("id", "id"),
    ("created_at", "created_at"),
    ("user", "user__email"),
    ("kind", "kind"),
    ("amount", "amount"),
    ("balance_after", "balance_after"),
    ("order_id", "order_id"),
    ("payment_id", "payment_id"),
    ("reason", "reason"),
    ("created_by", "created_by__email"),
]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "user_email",
        "kind",
        "amount",
        "balance_after",
        "order",
        "payment",
        "reason_short",
        "staff",
    )
    list_filter = ("kind", "created_at")
    search_fields = ("user__email", "reason", "=order__id", "=payment__id")
    list_select_related = ("user", "order", "payment", "created_by")
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_before_template = "console/_export_link.html"

    @admin.display(description=_("User"), ordering="user__email")
    def user_email(self, obj: LedgerEntry) -> str:
        return clipped(obj.user.email, 16)

    @admin.display(description=_("Staff"), ordering="created_by__email")
    def staff(self, obj: LedgerEntry) -> str:
        return clipped(obj.created_by.email, 10) if obj.created_by else "-"

    @admin.display(description=_("Reason"))
    def reason_short(self, obj: LedgerEntry) -> str:
        return clipped(obj.reason, 28)

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_view),
            name="accounts_ledgerentry_export",
        )
        return [export, *super().get_urls()]

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """The filtered transactions as CSV, streamed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        queryset = self.get_changelist_instance(request).get_queryset(request).order_by("-id")
        return csv_stream(queryset=queryset, columns=LEDGER_CSV, filename="transactions")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "user",
        "gateway",
        "amount",
        "bonus",
        "currency",
        "status",
        "external_id",
        "note",
    )
    list_filter = ("status", "gateway", "created_at")
    search_fields = ("user__email", "=external_id", "=id")
    list_select_related = ("user",)
    date_hierarchy = "created_at"


@admin.register(ApiKey)
class ApiKeyAdmin(ModelAdmin):
    # The hash is never shown; the prefix is enough to recognise a key. Deleting revokes it.
    list_display = ("user", "prefix", "created_at", "last_used_at", "last_used_ip")
    fields = ("user", "prefix", "created_at", "last_used_at", "last_used_ip")
    readonly_fields = fields
    search_fields = ("user__email", "=prefix")
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
