"""Django admin for accounts and money: an interface over the services, never around them."""

from __future__ import annotations

from decimal import Decimal

from allauth.account.decorators import secure_admin_login
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm

from accounts.models import ApiKey, LedgerEntry, Payment, User
from accounts.services import InsufficientFunds, funds_adjust
from panel.money import PLACES

# Why: Django's admin login would authenticate outside allauth, skipping its rate limits
# (and MFA). Staff log in through allauth like everyone else, then come back here.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]


class FundsAdjustForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=18,
        decimal_places=PLACES,
        help_text="Positive to add funds, negative to remove them.",
    )
    reason = forms.CharField(max_length=255, help_text="Recorded in the ledger; the user sees it.")

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("Enter a non-zero amount.")
        return amount

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A reason is required.")
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
    list_display = ("email", "role", "balance", "is_staff", "is_active", "date_joined")
    list_filter = ("role", "is_staff", "is_active")
    search_fields = ("email", "first_name", "last_name")
    readonly_fields = ("balance", "funds_link", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("first_name", "last_name", "timezone", "language")}),
        ("Money", {"fields": ("balance", "funds_link", "role", "discount_percent")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
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

    @admin.display(description="Adjust balance")
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
                    "amount", f"The balance is only {user.balance}; it cannot go below 0."
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    f"Balance of {user.email} changed by {entry.amount}; "
                    f"now {entry.balance_after}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust the balance of {user.email}",
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


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "user",
        "kind",
        "amount",
        "balance_after",
        "order",
        "payment",
        "reason",
        "created_by",
    )
    list_filter = ("kind", "created_at")
    search_fields = ("user__email", "reason", "=order__id", "=payment__id")
    list_select_related = ("user", "order", "payment", "created_by")
    date_hierarchy = "created_at"
    show_full_result_count = False


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
