from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from referrals.models import Commission, Programme, Referral, ReferralCode


@admin.register(Programme)
class ProgrammeAdmin(ModelAdmin):
    list_display = ["commission_percent", "is_enabled"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One row: the programme's rules.
        return not Programme.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ReferralCode)
class ReferralCodeAdmin(ModelAdmin):
    list_display = ["code", "user", "visits", "created_at"]
    list_select_related = ["user"]
    search_fields = ["code", "user__email"]
    readonly_fields = ["user", "code", "visits", "created_at"]


@admin.register(Referral)
class ReferralAdmin(ModelAdmin):
    list_display = ["referred", "referrer", "created_at"]
    list_select_related = ["referrer", "referred"]
    search_fields = ["referrer__email", "referred__email"]
    readonly_fields = ["referrer", "referred", "created_at"]


@admin.register(Commission)
class CommissionAdmin(ModelAdmin):
    list_display = ["payment", "referral", "deposit", "percent", "amount", "created_at"]
    list_select_related = ["referral__referrer", "referral__referred", "payment"]
    search_fields = ["referral__referrer__email", "referral__referred__email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written only by the deposit that earns it

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
