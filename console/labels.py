"""Russian-translatable labels for the admin: field and model names of the apps' models.

The models name most fields implicitly (Django derives "balance after" from the field name,
untranslated), so the Russian admin showed English column headers. ConsoleConfig.ready()
applies these lazy translations to ``field.verbose_name`` / ``_meta.verbose_name`` at start.
Only the displayed names change: migrations read ``field._verbose_name`` and
``_meta.original_attrs``, so no migration follows. A field that gets its own translated
verbose_name in its model is simply skipped here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

FIELDS: dict[str, dict[str, StrOrPromise]] = {
    "accounts.User": {
        "role": _("role"),
        "balance": _("balance"),
        "discount_percent": _("discount percent"),
        "timezone": _("timezone"),
        "language": _("language"),
    },
    "accounts.LedgerEntry": {
        "user": _("user"),
        "kind": _("kind"),
        "amount": _("amount"),
        "balance_after": _("balance after"),
        "order": _("order"),
        "payment": _("payment"),
        "reason": _("reason"),
        "created_by": _("created by"),
        "created_at": _("created at"),
    },
    "accounts.Payment": {
        "user": _("user"),
        "gateway": _("gateway"),
        "amount": _("amount"),
        "fee": _("fee"),
        "bonus": _("bonus"),
        "currency": _("currency"),
        "status": _("status"),
        "external_id": _("external id"),
        "note": _("note"),
        "method": _("method"),
        "reference": _("reference"),
        "receipt": _("receipt"),
        "reviewed_by": _("reviewed by"),
        "reviewed_at": _("reviewed at"),
        "created_at": _("created at"),
        "updated_at": _("updated at"),
    },
    "accounts.ApiKey": {
        "user": _("user"),
        "prefix": _("prefix"),
        "key_hash": _("key hash"),
        "created_at": _("created at"),
        "last_used_at": _("last used at"),
        "last_used_ip": _("last used ip"),
    },
    "catalog.Provider": {
        "name": _("name"),
        "api_url": _("api url"),
        "api_key_encrypted": _("api key encrypted"),
        "currency": _("currency"),
        "exchange_rate": _("exchange rate"),
        "is_enabled": _("is enabled"),
        "default_markup_percent": _("default markup percent"),
        "sync_interval_minutes": _("sync interval minutes"),
        "last_synced_at": _("last synced at"),
        "balance": _("balance"),
        "balance_checked_at": _("balance checked at"),
        "low_balance_threshold": _("low balance threshold"),
        "is_paused": _("is paused"),
        "paused_reason": _("paused reason"),
        "pauses_since": _("pauses since"),
        "pause_count": _("pause count"),
        "pause_held": _("pause held"),
        "last_error": _("last error"),
        "last_error_at": _("last error at"),
        "last_success_at": _("last success at"),
        "last_status_sync_at": _("last status sync at"),
        "sync_lease_until": _("sync lease until"),
        "last_sync_stats": _("last sync stats"),
    },
    "catalog.Category": {
        "name": _("name"),
        "sort_order": _("sort order"),
        "markup_percent": _("markup percent"),
        "is_visible": _("is visible"),
    },
    "catalog.Service": {
        "provider": _("provider"),
        "upstream_id": _("upstream id"),
        "upstream_name": _("upstream name"),
        "upstream_category": _("upstream category"),
        "upstream_description": _("upstream description"),
        "upstream_rate": _("upstream rate"),
        "category": _("category"),
        "name": _("name"),
        "description": _("description"),
        "type": _("type"),
        "min_quantity": _("min quantity"),
        "max_quantity": _("max quantity"),
        "dripfeed": _("dripfeed"),
        "refill": _("refill"),
        "cancel": _("cancel"),
        "refill_days": _("refill days"),
        "allow_unlimited_posts": _("allow unlimited posts"),
        "average_time": _("average time"),
        "completion_seconds_per_1000": _("completion seconds per 1000"),
        "fixed_rate": _("fixed rate"),
        "markup_percent": _("markup percent"),
        "rate": _("rate"),
        "is_enabled": _("is enabled"),
        "is_available": _("is available"),
        "created_at": _("created at"),
        "updated_at": _("updated at"),
    },
    "catalog.UserRate": {
        "user": _("user"),
        "service": _("service"),
        "rate": _("rate"),
    },
    "catalog.RateChange": {
        "service": _("service"),
        "old_rate": _("old rate"),
        "new_rate": _("new rate"),
        "changed_at": _("changed at"),
    },
    "catalog.CatalogAlert": {
        "kind": _("kind"),
        "provider": _("provider"),
        "service": _("service"),
        "message": _("message"),
        "created_at": _("created at"),
        "resolved_at": _("resolved at"),
    },
    "orders.Order": {
        "user": _("user"),
        "service": _("service"),
        "provider": _("provider"),
        "upstream_service_id": _("upstream service id"),
        "type": _("type"),
        "link": _("link"),
        "quantity": _("quantity"),
        "fields": _("fields"),
        "runs": _("runs"),
        "interval": _("interval"),
        "rate": _("rate"),
        "charge": _("charge"),
        "cost": _("cost"),
        "provider_refunded": _("provider refunded"),
        "refunded": _("refunded"),
        "status": _("status"),
        "source": _("source"),
        "upstream_order_id": _("upstream order id"),
        "start_count": _("start count"),
        "remains": _("remains"),
        "upstream_status": _("upstream status"),
        "cancel_status": _("cancel status"),
        "attempts": _("attempts"),
        "next_attempt_at": _("next attempt at"),
        "sending_since": _("sending since"),
        "last_error": _("last error"),
        "review_reason": _("review reason"),
        "review_data": _("review data"),
        "customer_message": _("customer message"),
        "sent_at": _("sent at"),
        "last_polled_at": _("last polled at"),
        "posts_delivered": _("posts delivered"),
        "finished_at": _("finished at"),
        "idempotency_key": _("idempotency key"),
        "request_hash": _("request hash"),
        "created_at": _("created at"),
        "updated_at": _("updated at"),
    },
    "orders.Refill": {
        "order": _("order"),
        "status": _("status"),
        "upstream_refill_id": _("upstream refill id"),
        "last_error": _("last error"),
        "attempts": _("attempts"),
        "next_attempt_at": _("next attempt at"),
        "sending_since": _("sending since"),
        "last_polled_at": _("last polled at"),
        "created_at": _("created at"),
        "updated_at": _("updated at"),
    },
    "orders.ProviderReconciliation": {
        "provider": _("provider"),
        "day": _("day"),
        "opening_balance": _("opening balance"),
        "closing_balance": _("closing balance"),
        "top_ups": _("top ups"),
        "orders_sent": _("orders sent"),
        "recorded_cost": _("recorded cost"),
        "recorded_refunds": _("recorded refunds"),
        "discrepancy": _("discrepancy"),
        "created_at": _("created at"),
        "updated_at": _("updated at"),
    },
    "console.AuditEntry": {
        "created_at": _("created at"),
        "staff": _("staff"),
        "staff_email": _("staff email"),
        "action": _("action"),
        "content_type": _("content type"),
        "object_id": _("object id"),
        "object_repr": _("object repr"),
        "message": _("message"),
        "before": _("before"),
        "after": _("after"),
    },
    "console.Notification": {
        "kind": _("kind"),
        "subject_key": _("subject key"),
        "title": _("title"),
        "body": _("body"),
        "link": _("link"),
        "created_at": _("created at"),
        "last_seen_at": _("last seen at"),
        "repeats": _("repeats"),
        "read_at": _("read at"),
        "email_status": _("email status"),
        "telegram_status": _("telegram status"),
        "attempts": _("attempts"),
        "last_error": _("last error"),
    },
    "console.DailyRollup": {
        "day": _("day"),
        "provider": _("provider"),
        "service": _("service"),
        "orders": _("orders"),
        "completed": _("completed"),
        "partial": _("partial"),
        "canceled": _("canceled"),
        "failed": _("failed"),
        "expired": _("expired"),
        "charge": _("charge"),
        "refunded": _("refunded"),
        "cost": _("cost"),
    },
}
MODELS: dict[str, tuple[StrOrPromise, StrOrPromise]] = {
    "accounts.User": (_("user"), _("users")),
    "accounts.LedgerEntry": (_("ledger entry"), _("ledger entries")),
    "accounts.Payment": (_("payment"), _("payments")),
    "accounts.ApiKey": (_("api key"), _("api keys")),
    "catalog.Provider": (_("provider"), _("providers")),
    "catalog.Category": (_("category"), _("categories")),
    "catalog.Service": (_("service"), _("services")),
    "catalog.UserRate": (_("user rate"), _("user rates")),
    "catalog.RateChange": (_("rate change"), _("rate changes")),
    "catalog.CatalogAlert": (_("catalog alert"), _("catalog alerts")),
    "orders.Order": (_("order"), _("orders")),
    "orders.Refill": (_("refill"), _("refills")),
    "orders.ProviderReconciliation": (_("provider reconciliation"), _("provider reconciliations")),
}

APPS: dict[str, StrOrPromise] = {
    "accounts": _("Accounts and money"),
    "catalog": _("Providers and catalogue"),
    "orders": _("Orders"),
}


def apply_labels() -> None:
    """Give the models' untranslated field and model names their lazy translations."""
    for label, fields in FIELDS.items():
        model = apps.get_model(label)
        for name, verbose_name in fields.items():
            field = model._meta.get_field(name)
            if not isinstance(field.verbose_name, Promise):
                field.verbose_name = verbose_name
    for label, (singular, plural) in MODELS.items():
        meta = apps.get_model(label)._meta
        # Names the model sets itself (Meta) win; the derived ones are replaced.
        if "verbose_name" not in meta.original_attrs:
            meta.verbose_name = singular
        if "verbose_name_plural" not in meta.original_attrs:
            meta.verbose_name_plural = plural
    for label, app_name in APPS.items():
        config = apps.get_app_config(label)
        if not isinstance(config.verbose_name, Promise):
            config.verbose_name = app_name  # type: ignore[assignment]  # lazy: translated when shown
