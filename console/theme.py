"""The admin theme's configuration (django-unfold), read by panel.settings as ``UNFOLD``.

Why unfold: a maintained theme whose CSS, fonts and scripts (Alpine.js, Chart.js, htmx) ship
inside the package, so the admin works with no CDN; it keeps Django's admin (ModelAdmin,
permissions, actions) and adds a sidebar with badges and a dashboard hook.

Only names and dotted paths here: settings import this module before the apps are ready.
"""

from __future__ import annotations

from typing import Any

from django.templatetags.static import static
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

PERMS = "console.permissions"
BADGES = "console.selectors"


def _item(title: Any, icon: str, link: Any, permission: str, badge: str = "") -> dict[str, Any]:
    item = {"title": title, "icon": icon, "link": link, "permission": f"{PERMS}.{permission}"}
    if badge:
        item["badge"] = f"{BADGES}.{badge}"
    return item


UNFOLD: dict[str, Any] = {
    "SITE_TITLE": "Upline",
    "SITE_HEADER": "Upline",
    "SITE_SYMBOL": "hub",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "console.views.dashboard_callback",
    "STYLES": [lambda request: static("console/admin.css")],
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": [
            {
                "title": _("Console"),
                "items": [
                    _item(_("Dashboard"), "monitoring", reverse_lazy("admin:index"), "staff"),
                    _item(
                        _("Needs review"),
                        "help",
                        reverse_lazy("console:queue", args=["review"]),
                        "view_orders",
                        "badge_review",
                    ),
                    _item(
                        _("Held: impossible numbers"),
                        "report",
                        reverse_lazy("console:queue", args=["held"]),
                        "view_orders",
                        "badge_held",
                    ),
                    _item(
                        _("Failed (24 h)"),
                        "error",
                        reverse_lazy("console:queue", args=["failed"]),
                        "view_orders",
                        "badge_failed",
                    ),
                    _item(
                        _("Refills and cancels"),
                        "autorenew",
                        reverse_lazy("console:queue", args=["refills"]),
                        "view_orders",
                        "badge_refills",
                    ),
                    _item(
                        _("Providers paused"),
                        "pause_circle",
                        reverse_lazy("console:queue", args=["paused"]),
                        "view_providers",
                        "badge_paused",
                    ),
                    _item(
                        _("Notifications"),
                        "notifications",
                        reverse_lazy("admin:console_notification_changelist"),
                        "view_notifications",
                        "badge_unread",
                    ),
                    _item(
                        _("Audit log"),
                        "history",
                        reverse_lazy("admin:console_auditentry_changelist"),
                        "view_audit",
                    ),
                    _item(
                        _("Bulk markup"),
                        "percent",
                        reverse_lazy("console:markup"),
                        "change_services",
                    ),
                ],
            },
        ],
    },
}
