"""Admin for the console's tables: the audit log (read-only) and the notification inbox."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from console.models import AuditEntry, Notification
from console.services.notify import notifications_mark_read


def _diff(values: dict[str, object]) -> str:
    return ", ".join(f"{key}={value}" for key, value in values.items()) or "-"


@admin.register(AuditEntry)
class AuditEntryAdmin(ModelAdmin):
    list_display = ["created_at", "staff_email", "action", "object_link", "message", "changes"]
    list_filter = ["action", "content_type", "created_at"]
    search_fields = ["staff_email", "object_repr", "message", "=object_id"]
    list_select_related = ["content_type"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [
        "created_at",
        "staff_email",
        "action",
        "content_type",
        "object_id",
        "object_repr",
        "message",
        "before",
        "after",
    ]
    exclude = ["staff"]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The "Staff actions on this record" link of each object filters by its id.
        return lookup == "object_id" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("Object"))
    def object_link(self, obj: AuditEntry) -> str:
        label = f"{obj.content_type.name} {obj.object_id}: {obj.object_repr}"[:80]
        try:
            url = reverse(
                f"admin:{obj.content_type.app_label}_{obj.content_type.model}_change",
                args=[obj.object_id],
            )
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description=_("Before → after"))
    def changes(self, obj: AuditEntry) -> str:
        if not obj.before and not obj.after:
            return "-"
        return f"{_diff(obj.before)} → {_diff(obj.after)}"


class UnreadFilter(admin.SimpleListFilter):
    title = _("read")
    parameter_name = "unread"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [("yes", str(_("Unread"))), ("no", str(_("Read")))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Notification]
    ) -> QuerySet[Notification]:
        if self.value() == "yes":
            return queryset.filter(read_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(read_at__isnull=False)
        return queryset


@admin.register(Notification)
class NotificationAdmin(ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "title_link",
        "repeats",
        "last_seen_at",
        "email_status",
        "telegram_status",
        "is_read",
    ]
    list_filter = [UnreadFilter, "kind", "email_status", "telegram_status"]
    search_fields = ["title", "body", "subject_key"]
    readonly_fields = [
        "created_at",
        "kind",
        "subject_key",
        "title",
        "body",
        "link",
        "last_seen_at",
        "repeats",
        "read_at",
        "email_status",
        "telegram_status",
        "attempts",
        "last_error",
    ]
    actions = ["mark_read"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("Alert"))
    def title_link(self, obj: Notification) -> str:
        if obj.link:
            return format_html('<a href="{}">{}</a>', obj.link, obj.title)
        return obj.title

    @admin.display(description=_("Read"), boolean=True)
    def is_read(self, obj: Notification) -> bool:
        return obj.read_at is not None

    @admin.action(description=_("Mark as read"), permissions=["view"])
    def mark_read(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = notifications_mark_read(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request, _("%(count)s marked as read.") % {"count": count}, messages.SUCCESS
        )
