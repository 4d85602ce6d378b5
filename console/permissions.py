"""Who sees which console page: the sidebar and the views ask the same functions."""

from __future__ import annotations

from django.http import HttpRequest


def _has(request: HttpRequest, perm: str) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_active and user.is_staff and user.has_perm(perm))


def staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_active and user.is_staff)


def view_dashboard(request: HttpRequest) -> bool:
    return _has(request, "console.view_dailyrollup")


def view_orders(request: HttpRequest) -> bool:
    return _has(request, "orders.view_order")


def change_orders(request: HttpRequest) -> bool:
    return _has(request, "orders.change_order")


def change_refills(request: HttpRequest) -> bool:
    return _has(request, "orders.change_refill")


def view_providers(request: HttpRequest) -> bool:
    return _has(request, "catalog.view_provider")


def change_providers(request: HttpRequest) -> bool:
    return _has(request, "catalog.change_provider")


def change_services(request: HttpRequest) -> bool:
    return _has(request, "catalog.change_service")


def view_notifications(request: HttpRequest) -> bool:
    return _has(request, "console.view_notification")


def view_audit(request: HttpRequest) -> bool:
    return _has(request, "console.view_auditentry")


def change_users(request: HttpRequest) -> bool:
    return _has(request, "accounts.change_user")
